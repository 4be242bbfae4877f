"""Jobs of the order's life, run by the database-backed worker."""

from django_tasks import task


@task()
def expire_unpaid_booking(booking_id: int) -> bool:
    """At the payment deadline: expire the order if it is still unpaid."""
    from .services import expire_unpaid

    return expire_unpaid(booking_id=booking_id)


@task()
def send_reminders_job(reschedule: bool = True) -> dict[str, int]:
    """Every YUYUE_REMINDER_SWEEP_SECONDS: the reminders that are due (`send_due_reminders`)."""
    import datetime as dt

    from django.conf import settings
    from django.db import transaction
    from django.utils import timezone

    from .services import send_due_reminders

    counts = send_due_reminders()
    if reschedule:
        every = dt.timedelta(seconds=settings.YUYUE_REMINDER_SWEEP_SECONDS)
        transaction.on_commit(
            lambda: send_reminders_job.using(run_after=timezone.now() + every).enqueue()
        )
    return counts
