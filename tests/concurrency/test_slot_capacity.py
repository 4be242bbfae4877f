"""Many customers book the last places of one hall slot at once: capacity is never exceeded."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.livesrv import Call, bearer, storm
from yuyue.orders.models import Booking, BookingStatus
from yuyue.orders.queries import slot_counts_consistent
from yuyue.scheduling.models import TimeSlot

from .conftest import SHANGHAI, assert_clean, outcome, people_with_keys

CAPACITY = 10
CLIENTS = 120


def _slot(hall_service, hall, day, hour: int = 10) -> TimeSlot:
    """A slot of CAPACITY places on `day` (a date in Shanghai) at `hour`."""
    starts = dt.datetime.combine(day, dt.time(hour, 0), tzinfo=SHANGHAI)
    return TimeSlot.objects.create(
        service=hall_service,
        hall=hall,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=1),
        capacity=CAPACITY,
    )


def _rush(server, slot, people):
    calls = [
        Call("POST", "/api/bookings", {"slot_id": slot.pk, "places": 1}, bearer(key))
        for _, key in people
    ]
    return storm(server.url, calls)


@pytest.mark.django_db(transaction=True)
def test_concurrent_bookings_never_exceed_capacity(server, hall_service, hall, tomorrow_local):
    slot = _slot(hall_service, hall, tomorrow_local)
    people = people_with_keys(CLIENTS)

    replies = _rush(server, slot, people)

    print(outcome(replies))
    assert_clean(replies, server)
    won = [r for r in replies if r.status == 201]
    full = [r for r in replies if r.status == 409 and r.code == "slot_full"]
    assert (len(won), len(full)) == (CAPACITY, CLIENTS - CAPACITY), outcome(replies)
    assert all(r.body["status"] == "booked" and r.body["code"] for r in won)
    rows = Booking.objects.filter(slot=slot, status=BookingStatus.BOOKED)
    assert rows.count() == CAPACITY
    assert sorted(rows.values_list("id", flat=True)) == sorted(r.body["id"] for r in won)
    slot.refresh_from_db()
    assert slot.booked == CAPACITY
    assert slot_counts_consistent(slot)


@pytest.mark.django_db(transaction=True)
def test_control_unguarded_booking_overbooks(unguarded_server, hall_service, hall, tomorrow_local):
    """Control: with the guards off (the naive write of unguarded.py) the same rush books more
    than capacity.

    The unguarded path reads the counter, sleeps, and writes it back (a lost update), so the
    counter stays within the CHECK constraint while the Booking rows pile up: count rows.

    Runs on SQLite as well as PostgreSQL: the unguarded path reads before its write
    transaction begins, so SQLite's serialised writers do not hide the race.
    """
    slot = _slot(hall_service, hall, tomorrow_local)
    people = people_with_keys(CLIENTS)

    replies = _rush(unguarded_server, slot, people)

    print(outcome(replies))
    assert_clean(replies, unguarded_server)
    won = sum(r.status == 201 for r in replies)
    rows = Booking.objects.filter(slot=slot, status=BookingStatus.BOOKED).count()
    assert won == rows
    assert rows > CAPACITY, f"no overbooking without the guards: {outcome(replies)}"
