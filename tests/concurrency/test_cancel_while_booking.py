"""Customers cancel a booking and book the same slot again, all at once: every call succeeds,
and the slot's counters and usage rows agree with the bookings afterwards.

A cancellation gives back the slot's places and the customer's usage row while bookings take
both, on the same rows; both take the slot row before the usage row (yuyue.orders.slot_writes).
(Taking them in opposite orders did not deadlock in this storm in three tries: the window is a
fraction of a millisecond, so this test guards the counts, not the order.)"""

from __future__ import annotations

import datetime as dt

import pytest

from tests.livesrv import Call, bearer, storm
from yuyue.orders.models import Booking, BookingStatus, SlotUsage
from yuyue.orders.queries import slot_counts_consistent
from yuyue.orders.services import book_slot
from yuyue.scheduling.models import TimeSlot

from .conftest import SHANGHAI, assert_clean, outcome, people_with_keys

CUSTOMERS = 40


@pytest.mark.django_db(transaction=True)
def test_cancelling_and_booking_again_at_once(server, hall_service, hall, tomorrow_local):
    hall_service.per_user_limit = 2
    hall_service.save()
    starts = dt.datetime.combine(tomorrow_local, dt.time(15, 0), tzinfo=SHANGHAI)
    slot = TimeSlot.objects.create(
        service=hall_service,
        hall=hall,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=1),
        capacity=2 * CUSTOMERS,
    )
    people = people_with_keys(CUSTOMERS)
    first = [
        book_slot(actor=customer, slot_id=slot.pk, places=1, participants=None)
        for customer, _ in people
    ]
    calls = []
    for (_, key), booking in zip(people, first, strict=True):
        calls.append(
            Call("POST", f"/api/bookings/{booking.pk}/cancel", {"reason": "r"}, bearer(key))
        )
        calls.append(Call("POST", "/api/bookings", {"slot_id": slot.pk, "places": 1}, bearer(key)))

    replies = storm(server.url, calls)

    print(outcome(replies))
    assert_clean(replies, server)
    assert [r.status for r in replies] == [200, 201] * CUSTOMERS, outcome(replies)
    live = Booking.objects.filter(slot=slot, status=BookingStatus.BOOKED)
    assert live.count() == CUSTOMERS and not live.filter(pk__in=[b.pk for b in first]).exists()
    assert slot_counts_consistent(slot)
    assert (slot.booked, slot.cancelled) == (CUSTOMERS, CUSTOMERS)
    usage = SlotUsage.objects.filter(slot=slot).values_list("customer_id", "count")
    assert sorted(usage) == sorted((customer.pk, 1) for customer, _ in people)
