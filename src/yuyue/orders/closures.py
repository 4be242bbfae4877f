"""Slots closed by staff: their bookings stay, and those holding them are told (a notice with
the message staff wrote), in the closing transaction (`scheduling.events.slots_closed`)."""

from __future__ import annotations

from yuyue.core.timeutil import zone
from yuyue.notifications.sending import notify_many

from .models import Booking, BookingStatus

STILL_TO_COME = (BookingStatus.BOOKED, BookingStatus.AWAITING_PAYMENT)


def tell_holders(sender, *, slot_ids: list[int], message: str, **_) -> None:
    rows = Booking.objects.filter(slot_id__in=slot_ids, status__in=STILL_TO_COME).select_related(
        "service", "merchant"
    )
    notify_many(
        [
            (
                b.customer_id,
                "slot.closed",
                {
                    "booking_id": b.pk,
                    "service": b.service.name,
                    "merchant": b.merchant.name,
                    "starts_at": b.starts_at.astimezone(zone(b.merchant.timezone)).strftime(
                        "%Y-%m-%d %H:%M"
                    ),
                    "message": message,
                },
            )
            for b in rows
        ]
    )
