"""Orders with a price wait for payment; unpaid ones expire by a real job and give back places."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.conftest import api_for
from yuyue.orders.models import Booking, BookingStatus, PaymentStatus
from yuyue.orders.queries import slot_counts_consistent
from yuyue.orders.services import confirm_payment, expire_unpaid
from yuyue.scheduling.models import TimeSlot


@pytest.fixture
def paid_slot(hall_service, hall):
    hall_service.base_price_fen = 2500
    hall_service.save()
    start = timezone.now() + dt.timedelta(days=1)
    return TimeSlot.objects.create(
        service=hall_service,
        hall=hall,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        capacity=2,
    )


def test_priced_booking_awaits_payment_then_is_booked(customer, paid_slot):
    status, body = api_for(customer).post("/api/bookings", {"slot_id": paid_slot.pk, "places": 2})
    assert status == 201
    assert (body["status"], body["payment_status"], body["price_fen"]) == (
        "awaiting_payment",
        "unpaid",
        5000,
    )
    assert body["pay_before"] is not None
    booking = confirm_payment(booking_id=body["id"], reference="sandbox-1")
    assert (booking.status, booking.payment_status) == (BookingStatus.BOOKED, PaymentStatus.PAID)
    assert expire_unpaid(booking_id=booking.pk) is False


def test_expiry_waits_for_the_deadline(customer, paid_slot):
    _, body = api_for(customer).post("/api/bookings", {"slot_id": paid_slot.pk})
    assert expire_unpaid(booking_id=body["id"]) is False  # deadline not reached
    assert Booking.objects.get(pk=body["id"]).status == BookingStatus.AWAITING_PAYMENT


@pytest.mark.django_db(transaction=True)
def test_unpaid_booking_expires_in_the_worker(settings, customer, paid_slot):
    settings.YUYUE_PAYMENT_MINUTES = 0  # the deadline is now
    status, body = api_for(customer).post("/api/bookings", {"slot_id": paid_slot.pk, "places": 2})
    assert status == 201
    paid_slot.refresh_from_db()
    assert paid_slot.booked == 2
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    booking = Booking.objects.get(pk=body["id"])
    assert booking.status == BookingStatus.EXPIRED
    paid_slot.refresh_from_db()
    assert paid_slot.booked == 0 and slot_counts_consistent(paid_slot)
    with pytest.raises(Exception) as exc:
        confirm_payment(booking_id=booking.pk)
    assert getattr(exc.value, "code", None) == "illegal_transition"
