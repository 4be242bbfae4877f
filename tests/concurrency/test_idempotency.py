"""A client retries one booking many times at once with the same Idempotency-Key."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.livesrv import Call, bearer, storm
from yuyue.orders.models import Booking
from yuyue.scheduling.models import TimeSlot

from .conftest import SHANGHAI, assert_clean, outcome, people_with_keys

CLIENTS = 20


def _rush(server, hall_service, hall, tomorrow_local):
    starts = dt.datetime.combine(tomorrow_local, dt.time(16, 0), tzinfo=SHANGHAI)
    slot = TimeSlot.objects.create(
        service=hall_service,
        hall=hall,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=1),
        capacity=100,
    )
    [(_, key)] = people_with_keys(1)
    call = Call(
        "POST",
        "/api/bookings",
        {"slot_id": slot.pk, "places": 1},
        bearer(key, **{"Idempotency-Key": "retry-7f3a"}),
    )
    replies = storm(server.url, [call] * CLIENTS)
    print(outcome(replies))
    assert_clean(replies, server)
    return slot, replies


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_make_one_booking(server, hall_service, hall, tomorrow_local):
    slot, replies = _rush(server, hall_service, hall, tomorrow_local)

    ids = {r.body["id"] for r in replies if r.status in (200, 201)}
    assert len(ids) == 1, outcome(replies)
    assert list(Booking.objects.filter(slot=slot).values_list("id", flat=True)) == list(ids)


@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_all_get_the_first_answer(server, hall_service, hall, tomorrow_local):
    _, replies = _rush(server, hall_service, hall, tomorrow_local)

    assert all(r.status in (200, 201) for r in replies), outcome(replies)
    assert len({r.body["id"] for r in replies}) == 1
