"""Quotes: base, options, peak hours, weekends, public holidays and 调休 workdays, travel fee."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import api_for
from yuyue.pricing.holidays import day_kind, package_years
from yuyue.pricing.prices import price

SH = ZoneInfo("Asia/Shanghai")


def at(y, m, d, h=10):
    return dt.datetime(y, m, d, h, tzinfo=SH)


def test_day_kinds_come_from_the_calendar(db):
    assert day_kind(dt.date(2026, 10, 1)) == ("holiday", True)  # National Day
    assert day_kind(dt.date(2026, 11, 28)) == ("weekend", True)  # an ordinary Saturday
    assert day_kind(dt.date(2026, 11, 24)) == ("workday", True)
    assert day_kind(dt.date(2026, 10, 10)) == ("workday", True)  # a Saturday worked: 调休


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
        "address": "5 Ruijin Road",
    }
    status, booked = api.post("/api/provider-bookings", body)
    assert status == 201, booked
    assert booked["price_fen"] == q["total_fen"] == 11000
    status, problem = api.post("/api/provider-bookings", body)
    assert problem["code"] in ("quote_used", "provider_busy")


def test_a_year_the_calendar_does_not_know_is_said_so_until_operators_enter_it(
    priced, operator, customer
):
    """chinese-calendar knows up to some year; after it, holidays are not guessed: the quote
    says the schedule is unknown, operators see the year and can enter its schedule."""
    year = package_years()[1] + 1
    national_day = dt.date(year, 10, 1)
    _, lines = price(priced, starts_at=at(year, 10, 1))
    assert {"item": "calendar_unknown", "year": year, "fen": 0} in lines
    assert "holiday" not in items(lines)
    ops = api_for(operator)
    status, calendar = ops.get("/api/ops/public-days")
    assert status == 200 and calendar["package_years"][1] == year - 1
    assert api_for(customer).get("/api/ops/public-days")[1]["code"] == "forbidden"
    saturday = next(
        national_day + dt.timedelta(days=i)
        for i in range(14)
        if (national_day + dt.timedelta(days=i)).weekday() == 5
    )
    status, days = ops.put(
        f"/api/ops/public-days/{year}",
        [
            {"date": national_day.isoformat(), "kind": "holiday", "name": "国庆节"},
            {"date": saturday.isoformat(), "kind": "workday", "name": "国庆节调休"},
        ],
    )
    assert status == 200 and len(days) == 2
    assert year in ops.get("/api/ops/public-days")[1]["entered_years"]
    assert year not in ops.get("/api/ops/public-days")[1]["unknown_years"]
    _, lines = price(priced, starts_at=at(year, 10, 1))
    assert items(lines) == {"base": 10000, "holiday": 5000}
    assert day_kind(saturday) == ("workday", True)
    status, body = ops.put(
        f"/api/ops/public-days/{year}", [{"date": f"{year + 1}-01-01", "kind": "holiday"}]
    )
    assert (status, body["code"]) == (422, "invalid_input")
    assert day_kind(national_day) == ("holiday", True)  # a refused change changed nothing


def test_operators_are_told_about_an_unknown_year_once_a_week(db, operator, settings):
    from unittest import mock

    from yuyue.notifications.models import Notice
    from yuyue.pricing import holidays
    from yuyue.pricing.tasks import holiday_calendar_job

    last = package_years()[1]
    soon = dt.date(last, 12, 20)  # 12 days before a year nobody knows
    with mock.patch.object(holidays.timezone, "localdate", return_value=soon):
        assert holiday_calendar_job.func(reschedule=False) == [last + 1]
        assert holiday_calendar_job.func(reschedule=False) == [last + 1]
    notices = Notice.objects.filter(kind="calendar.unknown")
    assert [(n.user_id, n.payload["years"]) for n in notices] == [(operator.pk, [last + 1])]
    with mock.patch.object(holidays.timezone, "localdate", return_value=dt.date(last, 6, 1)):
        assert holiday_calendar_job.func(reschedule=False) == []  # too early to worry
