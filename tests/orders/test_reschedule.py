"""Moving a hall-slot booking to another time: the new place is taken before the old is given
back, under a new booking's guards; a refusal changes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.conftest import api_for, make_user
from yuyue.catalog.models import Hall
from yuyue.orders.models import Booking, BookingEvent, BookingStatus, SlotUsage
from yuyue.orders.placing import book_slot
from yuyue.pricing.models import PriceList, PriceListItem
from yuyue.scheduling.models import TimeSlot

pytestmark = pytest.mark.django_db


@pytest.fixture
def slots(hall_service, merchant):
    hall = Hall.objects.create(merchant=merchant, name="Hall A")
    start = timezone.now().replace(microsecond=0, second=0) + dt.timedelta(days=2)
    return [
        TimeSlot.objects.create(
            service=hall_service,
            hall=hall,
            starts_at=start + dt.timedelta(hours=h),
            ends_at=start + dt.timedelta(hours=h + 1),
            capacity=capacity,
        )
        for h, capacity in ((0, 3), (1, 1), (2, 3))
    ]


def counts(*slots):
    return [TimeSlot.objects.get(pk=s.pk).booked for s in slots]


def test_a_booking_moves_with_its_places_and_code(customer, slots):
    a, _, c = slots
    booking = book_slot(actor=customer, slot_id=a.pk, places=2, participants=None)
    status, body = api_for(customer).post(
        f"/api/bookings/{booking.pk}/reschedule", {"slot_id": c.pk}
    )
    assert status == 200, body
    assert (body["slot_id"], body["code"]) == (c.pk, booking.code)
    assert body["starts_at"].startswith(c.starts_at.strftime("%Y-%m-%dT%H"))
    assert counts(a, c) == [0, 2]
    assert list(SlotUsage.objects.values_list("slot_id", "count")) == [(c.pk, 1)]
    event = BookingEvent.objects.get(booking=booking, step="reschedule")
    assert event.from_status == event.to_status == BookingStatus.BOOKED


def test_a_full_slot_refuses_and_nothing_changes(customer, other_customer, slots):
    a, full, _ = slots
    book_slot(actor=other_customer, slot_id=full.pk, places=1, participants=None)
    booking = book_slot(actor=customer, slot_id=a.pk, places=1, participants=None)
    status, body = api_for(customer).post(
        f"/api/bookings/{booking.pk}/reschedule", {"slot_id": full.pk}
    )
    assert (status, body["code"]) == (409, "slot_full")
    assert counts(a, full) == [1, 1]
    booking.refresh_from_db()
    assert booking.slot_id == a.pk
    assert not BookingEvent.objects.filter(step="reschedule").exists()


def test_a_different_price_is_refused(customer, slots, hall_service, merchant):
    a, _, c = slots
    plan = PriceList.objects.create(
        merchant=merchant, name="Evening", valid_from=dt.date(2020, 1, 1), active=True
    )
    PriceListItem.objects.create(price_list=plan, service=hall_service, unit_price_fen=500)
    booking = Booking.objects.get(
        pk=book_slot(actor=customer, slot_id=a.pk, places=1, participants=None).pk
    )
    Booking.objects.filter(pk=booking.pk).update(price_fen=0, status=BookingStatus.BOOKED)
    status, body = api_for(customer).post(
        f"/api/bookings/{booking.pk}/reschedule", {"slot_id": c.pk}
    )
    assert (status, body["code"]) == (409, "reschedule_price_differs")
    assert counts(a, c)[1] == 0


def test_only_your_own_open_hall_booking_moves(customer, slots):
    a, b, c = slots
    booking = book_slot(actor=customer, slot_id=a.pk, places=1, participants=None)
    stranger = make_user("Stranger")
    status, body = api_for(stranger).post(
        f"/api/bookings/{booking.pk}/reschedule", {"slot_id": c.pk}
    )
    assert (status, body["code"]) == (404, "not_found")
    status, body = api_for(customer).post(
        f"/api/bookings/{booking.pk}/reschedule", {"slot_id": a.pk}
    )
    assert (status, body["code"]) == (422, "invalid_input")
    api_for(customer).post(f"/api/bookings/{booking.pk}/cancel")
    status, body = api_for(customer).post(
        f"/api/bookings/{booking.pk}/reschedule", {"slot_id": c.pk}
    )
    assert (status, body["code"]) == (409, "reschedule_not_allowed")
    assert counts(a, b, c) == [0, 0, 0]


def test_a_slot_of_another_service_is_not_found(customer, slots, merchant):
    from yuyue.catalog.models import Service

    other = Service.objects.create(merchant=merchant, name="Visa", kind="hall_slot")
    elsewhere = TimeSlot.objects.create(
        service=other,
        hall=slots[0].hall,
        starts_at=slots[0].starts_at,
        ends_at=slots[0].ends_at,
        capacity=5,
    )
    booking = book_slot(actor=customer, slot_id=slots[0].pk, places=1, participants=None)
    status, body = api_for(customer).post(
        f"/api/bookings/{booking.pk}/reschedule", {"slot_id": elsewhere.pk}
    )
    assert (status, body["code"]) == (404, "not_found")
