"""Moving a hall-slot booking to another time of the same service (改期), in one step.

The new slot's places are taken by the guards of a new booking (the slot's conditional UPDATE,
then the customer's usage row under the per-user limit) before the old slot's are given back,
in one transaction that first locks the booking's row and then both slot rows in id order (the
lock order of `locks`). Either the booking moves with its places, or nothing changes: there is
no moment when the customer holds neither time, and none when a full slot takes one more.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from yuyue.core.audit import audit
from yuyue.core.controls import race_control
from yuyue.core.errors import DomainError
from yuyue.pricing.prices import unit_price
from yuyue.scheduling.availability import booking_deadline
from yuyue.scheduling.models import SlotStatus, TimeSlot

from .locks import give_back_place, take_place_again
from .models import Booking, BookingEvent, BookingStatus, Channel
from .placing import fmt_local
from .reminders import first_reminder_at

MOVABLE = (BookingStatus.BOOKED, BookingStatus.AWAITING_PAYMENT)


def reschedule_booking(*, actor, booking_id: int, slot_id: int) -> Booking:
    """Move the customer's booking to `slot_id`, a slot of the same service still open for
    booking, at the same price; before the old slot's own booking deadline."""
    if naive := race_control("reschedule"):
        return naive(actor=actor, booking_id=booking_id, slot_id=slot_id)
    now = timezone.now()
    with transaction.atomic():
        booking = (
            Booking.objects.select_for_update(of=("self",))
            .select_related("service__merchant")
            .filter(pk=booking_id, customer_id=getattr(actor, "pk", None))
            .first()
        )
        if booking is None:
            raise DomainError("not_found")
        service = booking.service
        if booking.channel != Channel.HALL_SLOT or booking.status not in MOVABLE:
            raise DomainError("reschedule_not_allowed")
        if slot_id == booking.slot_id:
            raise DomainError("invalid_input", "That is the booking's own time.")
        slots = {
            s.pk: s
            for s in TimeSlot.objects.select_for_update()
            .filter(pk__in=sorted({booking.slot_id, slot_id}))
            .order_by("pk")
        }
        old, new = slots.get(booking.slot_id), slots.get(slot_id)
        if new is None or new.service_id != service.pk:
            raise DomainError("not_found")
        tz = service.merchant.timezone
        if old is not None and now >= booking_deadline(old, service):
            deadline = fmt_local(booking_deadline(old, service), tz)
            raise DomainError("booking_closed", deadline=deadline)
        if new.status != SlotStatus.OPEN:
            raise DomainError("slot_closed")
        if now >= new.ends_at:
            raise DomainError("slot_past")
        if now >= booking_deadline(new, service):
            deadline = fmt_local(booking_deadline(new, service), tz)
            raise DomainError("booking_closed", deadline=deadline)
        price = unit_price(service, new.starts_at)[0] * booking.places
        if price != booking.price_fen:
            raise DomainError("reschedule_price_differs")
        take_place_again(booking, per_user_limit=service.per_user_limit, slot_id=new.pk)
        give_back_place(booking, counter=None)
        before = booking.starts_at
        booking.slot, booking.starts_at, booking.ends_at = new, new.starts_at, new.ends_at
        booking.remind_at = first_reminder_at(booking, now=now)
        booking.save(update_fields=["slot", "starts_at", "ends_at", "remind_at"])
        BookingEvent.objects.create(
            booking=booking,
            step="reschedule",
            from_status=booking.status,
            to_status=booking.status,
            actor=actor,
            role="customer",
            note=f"{before.isoformat()} → {new.starts_at.isoformat()}",
        )
        audit(actor, "booking.reschedule", booking, from_slot=old.pk if old else None, to=new.pk)
    return booking
