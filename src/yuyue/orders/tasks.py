"""Jobs of the order's life, run by the database-backed worker."""

from django_tasks import task


@task()
def expire_unpaid_booking(booking_id: int) -> bool:
    """At the payment deadline: expire the order if it is still unpaid."""
    from .services import expire_unpaid

    return expire_unpaid(booking_id=booking_id)


@task()
def remind_before_start(booking_id: int, minutes: int | None = None) -> list[int]:
    """Remind the order's customer and provider that it starts soon (unless it is over);
    `minutes` is how long before the start this reminder was meant for (0: it starts now)."""
    from yuyue.dispatch.notify import notify

    from .models import Booking
    from .states import CLOSED

    booking = Booking.objects.select_related("provider", "service").filter(pk=booking_id).first()
    if booking is None or booking.status in CLOSED:
        return []
    told = [booking.customer_id] + ([booking.provider.user_id] if booking.provider_id else [])
    for user_id in told:
        notify(
            user_id,
            "booking.reminder",
            booking=booking.pk,
            starts_at=booking.starts_at.isoformat(),
            service=booking.service.name,
            minutes_before=minutes,
            call=booking.channel == "call",
        )
    return told
