"""An on-site order worked through the API: depart, arrive, start and complete with the code."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import api_for, make_user
from yuyue.accounts.models import Provider
from yuyue.orders.models import Booking, BookingEvent, BookingStatus
from yuyue.scheduling.models import WorkingHours

SH = ZoneInfo("Asia/Shanghai")
HERE = {"lat": 31.2304, "lng": 121.4737}


@pytest.fixture(autouse=True)
def _steps_any_time(settings):
    """These orders start tomorrow and are worked through now: the windows in which each step
    may be taken are tested on their own (test_fulfilment.py, test_steps_wait_for_their_window)."""
    settings.YUYUE_STEP_EARLY_MINUTES = {}


@pytest.fixture
def order(customer, provider, onsite_service, tomorrow_local):
    onsite_service.base_price_fen = 0  # nothing to pay: goes straight to the provider
    onsite_service.save()
    WorkingHours.objects.create(
        provider=provider, weekday=tomorrow_local.weekday(), start=dt.time(8), end=dt.time(20)
    )
    status, body = api_for(customer).post(
        "/api/provider-bookings",
        {
            "service_id": onsite_service.pk,
            "provider_id": provider.pk,
            "address": "5 Ruijin Road",
            "starts_at": dt.datetime.combine(tomorrow_local, dt.time(10), tzinfo=SH).isoformat(),
        },
    )
    assert status == 201 and body["status"] == "accepted", body
    return body


def step(user, order, name, **body):
    return api_for(user).post(f"/api/provider/orders/{order['id']}/{name}", {**HERE, **body})


def test_the_whole_visit(order, provider):
    p = provider.user
    assert step(p, order, "depart")[1]["status"] == "departed"
    assert step(p, order, "arrive")[1]["status"] == "arrived"
    status, body = step(p, order, "start", code=order["code"].lower())
    assert (status, body["status"]) == (200, "in_service")
    assert "code" not in body  # the provider never sees the customer's code
    assert step(p, order, "complete", code=order["code"])[1]["status"] == "completed"
    events = BookingEvent.objects.filter(booking_id=order["id"]).order_by("id")
    assert [e.step for e in events] == ["depart", "arrive", "start", "complete"]
    assert all(e.lat == HERE["lat"] and e.role == "provider" for e in events)
    status, mine = api_for(p).get("/api/provider/orders", {"view": "done"})
    assert [o["id"] for o in mine] == [order["id"]]


def test_steps_cannot_be_skipped(order, provider):
    status, body = step(provider.user, order, "arrive")
    assert (status, body["code"]) == (409, "illegal_transition")
    status, body = step(provider.user, order, "complete", code=order["code"])
    assert (status, body["code"]) == (409, "illegal_transition")
    assert Booking.objects.get(pk=order["id"]).status == BookingStatus.ACCEPTED


def test_wrong_code_five_times_locks_and_changes_nothing(order, provider, operator):
    p = provider.user
    step(p, order, "depart")
    step(p, order, "arrive")
    replies = [step(p, order, "start", code="WRONGCODE2") for _ in range(5)]
    assert [r[1]["code"] for r in replies] == ["verification_failed"] * 4 + ["verification_locked"]
    assert replies[0][1]["detail"] == "Wrong verification code. 4 tries left."
    status, body = step(p, order, "start", code=order["code"])  # even the right code now
    assert (status, body["code"]) == (423, "verification_locked")
    assert Booking.objects.get(pk=order["id"]).status == BookingStatus.ARRIVED
    from yuyue.orders.fulfilment import unlock_verification

    unlock_verification(actor=operator, booking_id=order["id"])
    assert step(p, order, "start", code=order["code"])[1]["status"] == "in_service"


def test_another_provider_cannot_touch_the_order(order, merchant, onsite_service):
    other = Provider.objects.create(
        user=make_user("Other"), merchant=merchant, display_name="Other", verified=True
    )
    status, body = step(other.user, order, "depart")
    assert (status, body["code"]) == (404, "not_found")
    status, body = step(order_customer := make_user("c"), order, "depart")
    assert (status, body["code"]) == (404, "not_found"), order_customer
    assert Booking.objects.get(pk=order["id"]).status == BookingStatus.ACCEPTED


def test_a_step_needs_a_place(order, provider):
    status, body = api_for(provider.user).post(f"/api/provider/orders/{order['id']}/depart", {})
    assert (status, body["code"]) == (422, "invalid_input")
    status, body = step(provider.user, order, "depart", lat=123)
    assert (status, body["code"]) == (422, "invalid_input")


def test_steps_wait_for_their_window(order, provider, settings):
    """Departing, arriving, starting and completing are refused days before the start."""
    settings.YUYUE_STEP_EARLY_MINUTES = {"depart": 240, "arrive": 120, "start": 60, "complete": 60}
    p = provider.user
    status, body = step(p, order, "depart")
    assert (status, body["code"]) == (409, "step_too_early")
    assert "10:00" not in body["detail"] and "06:00" in body["detail"]  # 4 h before, local
    assert Booking.objects.get(pk=order["id"]).status == BookingStatus.ACCEPTED
    starts = dt.datetime.now(tz=SH).replace(microsecond=0) + dt.timedelta(minutes=90)
    Booking.objects.filter(pk=order["id"]).update(starts_at=starts)
    assert step(p, order, "depart")[1]["status"] == "departed"  # 90 min ahead: within 4 h
    assert step(p, order, "arrive")[1]["status"] == "arrived"  # within 2 h
    status, body = step(p, order, "start", code=order["code"])
    assert (status, body["code"]) == (409, "step_too_early")  # not yet an hour before
    Booking.objects.filter(pk=order["id"]).update(starts_at=starts - dt.timedelta(minutes=45))
    assert step(p, order, "start", code=order["code"])[1]["status"] == "in_service"
    assert step(p, order, "complete", code=order["code"])[1]["status"] == "completed"


def test_an_on_site_order_is_upcoming_until_done(order, provider, customer):
    """`view=upcoming` lists every kind of order still to happen, not only hall places."""

    def upcoming():
        return [b["id"] for b in api_for(customer).get("/api/bookings", {"view": "upcoming"})[1]]

    assert upcoming() == [order["id"]]  # accepted, tomorrow
    p = provider.user
    step(p, order, "depart")
    Booking.objects.filter(pk=order["id"]).update(
        starts_at=dt.datetime.now(SH) - dt.timedelta(hours=3),
        ends_at=dt.datetime.now(SH) - dt.timedelta(hours=1),
    )
    assert upcoming() == [order["id"]]  # under way, even past its planned end
    step(p, order, "arrive")
    step(p, order, "start", code=order["code"])
    step(p, order, "complete", code=order["code"])
    assert upcoming() == []
    done = api_for(customer).get("/api/bookings", {"view": "checked_in"})[1]
    assert [b["id"] for b in done] == [order["id"]]
