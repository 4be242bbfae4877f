"""Many customers move their bookings into the last places of another slot at once: the new
slot never takes more than its capacity, the old one gives back exactly what moved, and every
refused booking stays where it was. The control, without the guards, overfills the slot."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.livesrv import Call, bearer, storm
from yuyue.orders.models import Booking, BookingStatus
from yuyue.orders.queries import slot_counts_consistent
from yuyue.orders.services import book_slot
from yuyue.scheduling.models import TimeSlot

from .conftest import SHANGHAI, assert_clean, outcome, people_with_keys

CUSTOMERS = 30
ROOM = 5


def _setup(hall_service, hall, tomorrow_local):
    hall_service.per_user_limit = 2
    hall_service.save()
    slots = []
    for hour, capacity in ((9, CUSTOMERS), (11, ROOM)):
        starts = dt.datetime.combine(tomorrow_local, dt.time(hour), tzinfo=SHANGHAI)
        slots.append(
            TimeSlot.objects.create(
                service=hall_service,
                hall=hall,
                starts_at=starts,
                ends_at=starts + dt.timedelta(hours=1),
                capacity=capacity,
            )
        )
    people = people_with_keys(CUSTOMERS)
    bookings = [
        book_slot(actor=customer, slot_id=slots[0].pk, places=1, participants=None)
        for customer, _ in people
    ]
    calls = [
        Call("POST", f"/api/bookings/{b.pk}/reschedule", {"slot_id": slots[1].pk}, bearer(key))
        for (_, key), b in zip(people, bookings, strict=True)
    ]
    return slots, calls


@pytest.mark.django_db(transaction=True)
def test_moving_into_the_last_places_at_once(server, hall_service, hall, tomorrow_local):
    (old, new), calls = _setup(hall_service, hall, tomorrow_local)

    replies = storm(server.url, calls)

    print(outcome(replies))
    assert_clean(replies, server)
    moved = [r for r in replies if r.status == 200]
    full = [r for r in replies if r.status == 409 and r.code == "slot_full"]
    assert (len(moved), len(full)) == (ROOM, CUSTOMERS - ROOM), outcome(replies)
    assert Booking.objects.filter(slot=new, status=BookingStatus.BOOKED).count() == ROOM
    assert Booking.objects.filter(slot=old, status=BookingStatus.BOOKED).count() == CUSTOMERS - ROOM
    old.refresh_from_db()
    new.refresh_from_db()
    assert (old.booked, new.booked) == (CUSTOMERS - ROOM, ROOM)
    assert slot_counts_consistent(old) and slot_counts_consistent(new)


@pytest.mark.django_db(transaction=True)
def test_control_unguarded_moves_overfill_the_slot(
    unguarded_server, hall_service, hall, tomorrow_local
):
    """Control: the naive move (read the places, pause, write what was read) lets more
    bookings into the new slot than it holds."""
    (_, new), calls = _setup(hall_service, hall, tomorrow_local)

    replies = storm(unguarded_server.url, calls)

    print(outcome(replies))
    assert_clean(replies, unguarded_server)
    rows = Booking.objects.filter(slot=new, status=BookingStatus.BOOKED).count()
    assert rows > ROOM, f"no overfilling without the guards: {outcome(replies)}"
