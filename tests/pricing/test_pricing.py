"""Quotes: base, options, peak hours, weekends, public holidays and 调休 workdays, travel fee."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import api_for
from yuyue.pricing.prices import day_kind, price

SH = ZoneInfo("Asia/Shanghai")


def at(y, m, d, h=10):
    return dt.datetime(y, m, d, h, tzinfo=SH)


def test_day_kinds_come_from_the_calendar():
    assert day_kind(dt.date(2026, 10, 1)) == "holiday"  # National Day
    assert day_kind(dt.date(2026, 11, 28)) == "weekend"  # an ordinary Saturday
    assert day_kind(dt.date(2026, 11, 24)) == "workday"
    assert day_kind(dt.date(2026, 10, 10)) == "workday"  # a Saturday worked for the holiday 调休


@pytest.fixture
def priced(onsite_service, merchant):
    merchant.lat, merchant.lng = 31.2304, 121.4737
    merchant.save()
    onsite_service.base_price_fen = 10000
    onsite_service.pricing = {
        "peak": [{"start": "18:00", "end": "21:00", "percent": 20}],
        "weekend_percent": 10,
        "holiday_percent": 50,
        "per_m2_fen": 100,
        "per_person_fen": 2000,
        "free_km": 3,
        "per_km_fen": 300,
    }
    onsite_service.save()
    return onsite_service


def items(lines):
    return {line["item"]: line["fen"] for line in lines}


def test_breakdown(priced):
    total, lines = price(
        priced, starts_at=at(2026, 11, 24), quantity=2, options={"area_m2": 80, "people": 2}
    )
    assert items(lines) == {"base": 20000, "area": 8000, "people": 2000}
    assert total == 30000
    total, lines = price(priced, starts_at=at(2026, 11, 28, 19))  # Saturday evening
    assert items(lines) == {"base": 10000, "peak": 2000, "weekend": 1000}
    total, lines = price(priced, starts_at=at(2026, 10, 1))
    assert items(lines) == {"base": 10000, "holiday": 5000}
    total, lines = price(priced, starts_at=at(2026, 10, 10))  # 调休: no weekend surcharge
    assert items(lines) == {"base": 10000}
    total, lines = price(priced, starts_at=at(2026, 11, 24), lat=31.2304 + 0.09, lng=121.4737)
    travel = next(line for line in lines if line["item"] == "travel")
    assert 9.9 < travel["km"] < 10.1
    assert 2090 <= travel["fen"] <= 2110  # 7 km beyond the free 3 at ¥3/km


def test_quote_api_and_bad_input(priced):
    status, q = api_for(None).post(
        "/api/quotes",
        {"service_id": priced.pk, "starts_at": at(2027, 1, 5).isoformat(), "quantity": 1},
    )
    assert status == 201 and q["total_fen"] == 10000 and q["expires_at"]
    for body, code in [
        ({"quantity": 0}, "invalid_input"),
        ({"quantity": 1.5}, "invalid_input"),
        ({"options": {"area_m2": -3}}, "invalid_input"),
        ({"starts_at": at(2020, 1, 1).isoformat()}, "time_past"),
        ({"service_id": 999999}, "not_found"),
    ]:
        payload = {"service_id": priced.pk, "starts_at": at(2027, 1, 5).isoformat(), **body}
        status, problem = api_for(None).post("/api/quotes", payload)
        assert problem["code"] == code, (body, problem)


def test_an_order_locks_its_quote(customer, other_customer, priced, provider):
    from yuyue.scheduling.models import WorkingHours

    for d in range(7):
        WorkingHours.objects.create(provider=provider, weekday=d, start=dt.time(8), end=dt.time(20))
    when = at(2027, 1, 5)  # a Tuesday
    api = api_for(customer)
    _, q = api.post(
        "/api/quotes",
        {"service_id": priced.pk, "starts_at": when.isoformat(), "options": {"area_m2": 50}},
    )
    body = {
        "service_id": priced.pk,
        "starts_at": when.isoformat(),
        "address": "x",
        "lat": 31.2304,
        "lng": 121.4737,
        "quote_id": q["id"],
    }
    status, order = api.post("/api/orders/onsite", body)
    assert status == 201, order
    assert order["price_fen"] == q["total_fen"] == 15000
    status, problem = api_for(other_customer).post("/api/orders/onsite", body)
    assert problem["code"] in ("quote_used", "not_found")
    status, problem = api.post("/api/orders/onsite", body)
    assert (status, problem["code"]) == (409, "quote_used")
    _, q2 = api.post("/api/quotes", {"service_id": priced.pk, "starts_at": when.isoformat()})
    status, problem = api.post("/api/orders/onsite", {**body, "quote_id": q2["id"], "quantity": 2})
    assert (status, problem["code"]) == (422, "quote_mismatch")


def test_a_chosen_provider_booking_locks_its_quote(customer, priced, provider):
    from yuyue.scheduling.models import WorkingHours

    for d in range(7):
        WorkingHours.objects.create(provider=provider, weekday=d, start=dt.time(8), end=dt.time(20))
    when = at(2027, 1, 9, 10)  # a Saturday: weekend surcharge
    api = api_for(customer)
    _, q = api.post("/api/quotes", {"service_id": priced.pk, "starts_at": when.isoformat()})
    body = {
        "service_id": priced.pk,
        "provider_id": provider.pk,
        "starts_at": when.isoformat(),
        "quote_id": q["id"],
    }
    status, booked = api.post("/api/provider-bookings", body)
    assert status == 201, booked
    assert booked["price_fen"] == q["total_fen"] == 11000
    status, problem = api.post("/api/provider-bookings", body)
    assert problem["code"] in ("quote_used", "provider_busy")
