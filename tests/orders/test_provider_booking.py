"""Booking a chosen provider's time: working hours, buffers, overlaps, and bad input."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import api_for, make_user
from yuyue.accounts.models import Provider
from yuyue.orders.models import Booking
from yuyue.scheduling.models import AvailabilityException, ProviderReservation, WorkingHours

SH = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def hours(provider):
    WorkingHours.objects.bulk_create(
        WorkingHours(provider=provider, weekday=d, start=dt.time(8), end=dt.time(20))
        for d in range(7)
    )
    return provider


def at(day: dt.date, hour: int, minute: int = 0) -> str:
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SH).isoformat()


def book(user, service, provider, starts_at):
    return api_for(user).post(
        "/api/provider-bookings",
        {
            "service_id": service.pk,
            "provider_id": provider.pk,
            "starts_at": starts_at,
            "address": "5 Ruijin Road",
        },
    )


def test_book_provider_reserves_time_with_buffer(customer, onsite_service, hours, tomorrow_local):
    status, body = book(customer, onsite_service, hours, at(tomorrow_local, 10))
    assert status == 201, body
    assert body["provider_id"] == hours.pk and body["local_start"].endswith("T10:00")
    reservation = ProviderReservation.objects.get()
    assert reservation.ends_at - reservation.starts_at == dt.timedelta(hours=2)
    assert reservation.blocked_until - reservation.ends_at == dt.timedelta(minutes=30)


def test_the_provider_comes_to_the_address_at_their_own_price(
    customer, onsite_service, hours, tomorrow_local
):
    hours.price_fen = 15_800  # the price Liu's card shows
    hours.save()
    status, body = api_for(customer).post(
        "/api/provider-bookings",
        {
            "service_id": onsite_service.pk,
            "provider_id": hours.pk,
            "starts_at": at(tomorrow_local, 10),
            "address": "  Room 3, 5 Ruijin Road  ",
            "lat": 31.22,
            "lng": 121.46,
        },
    )
    assert status == 201, body
    assert body["price_fen"] == 15_800 != onsite_service.base_price_fen
    booking = Booking.objects.get(pk=body["id"])
    assert (booking.address, booking.lat, booking.lng) == ("Room 3, 5 Ruijin Road", 31.22, 121.46)


def test_overlap_including_buffer_is_refused(
    customer, other_customer, onsite_service, hours, tomorrow_local
):
    assert book(customer, onsite_service, hours, at(tomorrow_local, 10))[0] == 201
    # 12:00 is when the job ends, but the 30-minute buffer runs to 12:30
    status, body = book(other_customer, onsite_service, hours, at(tomorrow_local, 12))
    assert (status, body["code"]) == (409, "provider_busy")
    status, body = book(other_customer, onsite_service, hours, at(tomorrow_local, 9))
    assert (status, body["code"]) == (409, "provider_busy")
    assert book(other_customer, onsite_service, hours, at(tomorrow_local, 12, 30))[0] == 201
    assert ProviderReservation.objects.filter(active=True).count() == 2


def test_cancel_frees_the_time(customer, other_customer, onsite_service, hours, tomorrow_local):
    _, body = book(customer, onsite_service, hours, at(tomorrow_local, 10))
    assert api_for(customer).post(f"/api/bookings/{body['id']}/cancel", {})[0] == 200
    assert book(other_customer, onsite_service, hours, at(tomorrow_local, 10))[0] == 201


def test_outside_working_hours_and_leave(customer, onsite_service, hours, tomorrow_local):
    status, body = book(customer, onsite_service, hours, at(tomorrow_local, 19))
    assert (status, body["code"]) == (409, "provider_unavailable")
    AvailabilityException.objects.create(
        provider=hours, date=tomorrow_local, start=dt.time(9), end=dt.time(13), kind="leave"
    )
    status, body = book(customer, onsite_service, hours, at(tomorrow_local, 10))
    assert (status, body["code"]) == (409, "provider_unavailable")
    AvailabilityException.objects.create(
        provider=hours, date=tomorrow_local, start=dt.time(20), end=dt.time(23), kind="extra"
    )
    assert book(customer, onsite_service, hours, at(tomorrow_local, 20))[0] == 201


def test_bad_provider_bookings_change_nothing(
    customer, onsite_service, hours, tomorrow_local, hall_service
):
    yesterday = tomorrow_local - dt.timedelta(days=2)
    cases = [
        ({"starts_at": at(yesterday, 10)}, 409, "time_past"),
        ({"starts_at": at(tomorrow_local, 10, 10)}, 422, "time_off_step"),
        ({"starts_at": "2026-13-01T10:00:00"}, 422, "invalid_input"),
        (
            {"starts_at": dt.datetime.combine(tomorrow_local, dt.time(10)).isoformat()},
            422,
            "invalid_input",
        ),
        ({"provider_id": 999_999}, 404, "not_found"),
        ({"service_id": hall_service.pk}, 422, "wrong_service_kind"),
        ({"address": ""}, 422, "address_required"),
        ({"address": "   "}, 422, "address_required"),
        ({"lat": 31.2}, 422, "invalid_input"),  # half a point
        ({"lat": 31.2, "lng": 200}, 422, "invalid_input"),
        # Suzhou is 85 km from Liu's base; Liu goes 15 km
        ({"lat": 31.30, "lng": 120.58}, 409, "outside_service_area"),
    ]
    for override, status, code in cases:
        body = {
            "service_id": onsite_service.pk,
            "provider_id": hours.pk,
            "starts_at": at(tomorrow_local, 10),
            "address": "5 Ruijin Road",
            **override,
        }
        got_status, got = api_for(customer).post("/api/provider-bookings", body)
        assert (got_status, got["code"]) == (status, code), (override, got)
    assert not Booking.objects.exists() and not ProviderReservation.objects.exists()


def test_unqualified_provider(customer, onsite_service, merchant, tomorrow_local):
    other = Provider.objects.create(
        user=make_user("No skills"), merchant=merchant, display_name="Zhou", verified=True
    )
    WorkingHours.objects.create(
        provider=other, weekday=tomorrow_local.weekday(), start=dt.time(8), end=dt.time(20)
    )
    status, body = book(customer, onsite_service, other, at(tomorrow_local, 10))
    assert (status, body["code"]) == (409, "provider_unqualified")
    other.services.add(onsite_service)
    Provider.objects.filter(pk=other.pk).update(verified=False)
    status, body = book(customer, onsite_service, other, at(tomorrow_local, 10))
    assert (status, body["code"]) == (409, "provider_unqualified")
