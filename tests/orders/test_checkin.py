"""Check-in 核销: one redeem per code, by the merchant's staff, on the booking's day."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.conftest import api_for, make_user
from yuyue.accounts.models import MerchantStaff, StaffRole
from yuyue.core.codes import CHECKIN_ALPHABET
from yuyue.orders.models import Booking, BookingStatus
from yuyue.scheduling.models import TimeSlot


@pytest.fixture
def today_slot(hall_service, hall):
    """A slot that starts in a minute: still today in Shanghai unless run at 23:59."""
    start = timezone.now() + dt.timedelta(minutes=1)
    return TimeSlot.objects.create(
        service=hall_service,
        hall=hall,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=30),
        capacity=5,
    )


@pytest.fixture
def booking(customer, today_slot):
    status, body = api_for(customer).post("/api/bookings", {"slot_id": today_slot.pk})
    assert status == 201
    return body


def redeem(user, merchant_id, code):
    return api_for(user).post(f"/api/merchants/{merchant_id}/checkins", {"code": code})


def test_code_alphabet_is_unambiguous(booking):
    assert set(booking["code"]) <= set(CHECKIN_ALPHABET)
    assert not set("01OIL") & set(CHECKIN_ALPHABET)


def test_clerk_checks_in_once(clerk, merchant, booking):
    code = booking["code"]
    typed = f" {code[:5].lower()}-{code[5:]} "  # as a person types it
    status, body = redeem(clerk, merchant.pk, typed)
    assert status == 200 and body["status"] == "checked_in"
    assert Booking.objects.get(pk=booking["id"]).checked_in_by_id == clerk.pk
    status, body = redeem(clerk, merchant.pk, code)
    assert (status, body["code"]) == (409, "already_checked_in")


def test_wrong_merchant(booking, other_merchant):
    stranger = make_user("other clerk")
    MerchantStaff.objects.create(user=stranger, merchant=other_merchant, role=StaffRole.CLERK)
    status, body = redeem(stranger, other_merchant.pk, booking["code"])
    assert (status, body["code"]) == (403, "wrong_merchant")
    assert Booking.objects.get(pk=booking["id"]).status == BookingStatus.BOOKED


def test_customer_cannot_check_in(customer, merchant, booking):
    status, body = redeem(customer, merchant.pk, booking["code"])
    assert (status, body["code"]) == (403, "forbidden")


def test_cancelled_and_unknown(customer, clerk, merchant, booking):
    api_for(customer).post(f"/api/bookings/{booking['id']}/cancel", {})
    status, body = redeem(clerk, merchant.pk, booking["code"])
    assert (status, body["code"]) == (409, "booking_cancelled")
    status, body = redeem(clerk, merchant.pk, "ZZZZZZZZZZ")
    assert (status, body["code"]) == (404, "code_unknown")


def test_not_today(customer, clerk, merchant, hall_service, hall):
    start = timezone.now() + dt.timedelta(days=3)
    slot = TimeSlot.objects.create(
        service=hall_service,
        hall=hall,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        capacity=5,
    )
    _, booking = api_for(customer).post("/api/bookings", {"slot_id": slot.pk})
    status, body = redeem(clerk, merchant.pk, booking["code"])
    assert (status, body["code"]) == (409, "not_today")
    assert Booking.objects.get(pk=booking["id"]).status == BookingStatus.BOOKED


def test_checked_in_booking_cannot_be_cancelled(customer, clerk, merchant, booking):
    redeem(clerk, merchant.pk, booking["code"])
    status, body = api_for(customer).post(f"/api/bookings/{booking['id']}/cancel", {})
    assert (status, body["code"]) == (409, "cancel_checked_in")


def test_qr_image_of_the_code(client, booking):
    response = client.get(booking["qr_url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in response.content
    assert client.get("/bookings/not-a-code/qr.svg").status_code == 404
