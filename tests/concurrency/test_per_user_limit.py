"""One customer sends the same booking many times at once: the per-user limit still holds."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.livesrv import Call, bearer, storm
from yuyue.orders.models import Booking, BookingStatus, SlotUsage
from yuyue.scheduling.models import TimeSlot

from .conftest import SHANGHAI, assert_clean, outcome, people_with_keys

CLIENTS = 20


def _rush(server, hall_service, hall, tomorrow_local):
    assert hall_service.per_user_limit == 1
    starts = dt.datetime.combine(tomorrow_local, dt.time(14, 0), tzinfo=SHANGHAI)
    slot = TimeSlot.objects.create(
        service=hall_service,
        hall=hall,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=1),
        capacity=100,
    )
    [(customer, key)] = people_with_keys(1)
    call = Call("POST", "/api/bookings", {"slot_id": slot.pk, "places": 1}, bearer(key))
    replies = storm(server.url, [call] * CLIENTS)
    rows = Booking.objects.filter(slot=slot, customer=customer, status=BookingStatus.BOOKED)
    return slot, replies, rows.count()


@pytest.mark.django_db(transaction=True)
def test_one_customer_cannot_exceed_limit_concurrently(server, hall_service, hall, tomorrow_local):
    slot, replies, rows = _rush(server, hall_service, hall, tomorrow_local)

    print(outcome(replies))
    assert_clean(replies, server)
    won = sum(r.status == 201 for r in replies)
    limited = sum(r.status == 409 and r.code == "per_user_limit" for r in replies)
    assert (won, limited) == (1, CLIENTS - 1), outcome(replies)
    assert rows == 1
    slot.refresh_from_db()
    assert slot.booked == 1
    assert list(SlotUsage.objects.filter(slot=slot).values_list("count", flat=True)) == [1]


@pytest.mark.django_db(transaction=True)
def test_control_unguarded_limit_is_exceeded(unguarded_server, hall_service, hall, tomorrow_local):
    """Control: without the guards the same customer gets more than one booking of the slot.

    Runs on SQLite as well as PostgreSQL: the unguarded path reads before its write
    transaction begins, so SQLite's serialised writers do not hide the race."""
    slot, replies, rows = _rush(unguarded_server, hall_service, hall, tomorrow_local)

    print(outcome(replies))
    assert_clean(replies, unguarded_server)
    assert sum(r.status == 201 for r in replies) == rows
    assert rows > 1, f"the limit held without the guards: {outcome(replies)}"
