"""The one order in which the rows of orders are locked, as code.

Concurrent writers that lock the same rows in different orders can deadlock; every path here
takes them in this order, and PostgreSQL's one-statement hall booking (`slot_writes`) follows it:

1. the order's own row, when an existing order changes (`states.apply_step`'s conditional UPDATE);
2. the hall slot's row (`TimeSlot`: places booked, by slot id when there are several);
3. the customer's usage row of that slot (`SlotUsage`: the per-user limit), only while the slot's
   row is held;
4. the provider's row, then their reservations (`placing.reserve_provider_time`).

Ledger accounts (billing) are locked by primary key, after all of these. A new hall booking takes
2 and 3 and then inserts its row, so it never waits on 1 while holding 2.
"""

from __future__ import annotations

from django.db.models import F, Q

from yuyue.core.errors import DomainError
from yuyue.scheduling.models import SlotStatus, TimeSlot

from .models import Booking, SlotUsage

LOCK_ORDER = ("booking", "slot", "usage", "provider")


def give_back_place(booking: Booking, *, counter: str | None) -> None:
    """The order's places go back to its slot (counted as `counter`, if given), then its usage."""
    changes = {"booked": F("booked") - booking.places}
    if counter:
        changes[counter] = F(counter) + booking.places
    TimeSlot.objects.filter(pk=booking.slot_id).update(**changes)
    usage = SlotUsage.objects.filter(slot_id=booking.slot_id, customer_id=booking.customer_id)
    usage.filter(count__gt=0).update(count=F("count") - 1)
    usage.filter(count=0).delete()  # a row counts live bookings only


def take_place_again(booking: Booking, *, per_user_limit: int, slot_id: int | None = None) -> None:
    """An order's places taken again (an expired one's in its own slot, a rescheduled one's in
    `slot_id`), by the same guards as a new booking's: the slot's conditional UPDATE, then the
    usage row's (slot_full / per_user_limit, nothing kept)."""
    slot_id = booking.slot_id if slot_id is None else slot_id
    room = Q(capacity__isnull=True) | Q(booked__lte=F("capacity") - booking.places)
    slot = TimeSlot.objects.filter(pk=slot_id, status=SlotStatus.OPEN).filter(room)
    if not slot.update(booked=F("booked") + booking.places):
        raise DomainError("slot_full")
    SlotUsage.objects.bulk_create(
        [SlotUsage(slot_id=slot_id, customer_id=booking.customer_id)], ignore_conflicts=True
    )
    if not SlotUsage.objects.filter(
        slot_id=slot_id, customer_id=booking.customer_id, count__lt=per_user_limit
    ).update(count=F("count") + 1):
        raise DomainError("per_user_limit", limit=per_user_limit)
