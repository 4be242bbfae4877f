"""Monthly packages 包月: a weekly rule becomes dated bookings; conflicts first; split on change."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import api_for
from yuyue.orders.models import Booking, BookingStatus, Series
from yuyue.scheduling.models import ProviderReservation, WorkingHours

SH = ZoneInfo("Asia/Shanghai")
HOME = {"address": "8 Wulumuqi Road", "lat": 31.22, "lng": 121.45}


@pytest.fixture
def free_service(onsite_service):
    onsite_service.base_price_fen = 0
    onsite_service.save()
    return onsite_service


@pytest.fixture
def weekdays(provider):
    for d in range(7):
        WorkingHours.objects.create(provider=provider, weekday=d, start=dt.time(8), end=dt.time(18))
    return provider


def rule(start_day, days=14, weekdays=(0, 2, 4), at="09:00"):
    return {
        "weekdays": list(weekdays),
        "start": at,
        "date_from": start_day.isoformat(),
        "date_to": (start_day + dt.timedelta(days=days - 1)).isoformat(),
    }


def expected_dates(start_day, days=14, weekdays=(0, 2, 4)):
    return [
        start_day + dt.timedelta(days=i)
        for i in range(days)
        if (start_day + dt.timedelta(days=i)).weekday() in weekdays
    ]


def test_book_a_series(customer, free_service, weekdays, tomorrow_local):
    body = {
        "service_id": free_service.pk,
        "provider_id": weekdays.pk,
        "rule": rule(tomorrow_local),
        **HOME,
    }
    status, preview = api_for(customer).post("/api/series/preview", body)
    assert status == 200 and all(o["ok"] for o in preview)
    status, series = api_for(customer).post("/api/series", body)
    assert status == 201, series
    dates = [
        dt.datetime.fromisoformat(o["starts_at"]).astimezone(SH).date()
        for o in series["occurrences"]
    ]
    assert dates == expected_dates(tomorrow_local)
    assert all(o["status"] == "accepted" for o in series["occurrences"])
    assert ProviderReservation.objects.filter(active=True).count() == len(dates)


def test_conflicts_are_shown_and_nothing_is_booked(
    customer, other_customer, free_service, weekdays, tomorrow_local
):
    first = expected_dates(tomorrow_local)[1]
    api_for(other_customer).post(
        "/api/provider-bookings",
        {
            "service_id": free_service.pk,
            "provider_id": weekdays.pk,
            "address": "5 Ruijin Road",
            "starts_at": dt.datetime.combine(first, dt.time(9), tzinfo=SH).isoformat(),
        },
    )
    body = {
        "service_id": free_service.pk,
        "provider_id": weekdays.pk,
        "rule": rule(tomorrow_local),
        **HOME,
    }
    preview = api_for(customer).post("/api/series/preview", body)[1]
    assert [o["problem"] for o in preview if not o["ok"]] == ["provider_busy"]
    status, problem = api_for(customer).post("/api/series", body)
    assert (status, problem["code"]) == (409, "series_conflicts")
    assert len(problem["errors"]) == 1
    assert not Series.objects.exists()
    assert Booking.objects.filter(customer=customer).count() == 0
    status, series = api_for(customer).post("/api/series", {**body, "skip_conflicts": True})
    assert status == 201 and len(series["occurrences"]) == len(expected_dates(tomorrow_local)) - 1


def test_change_from_a_date_splits_the_series(customer, free_service, weekdays, tomorrow_local):
    api = api_for(customer)
    _, series = api.post(
        "/api/series",
        {
            "service_id": free_service.pk,
            "provider_id": weekdays.pk,
            "rule": rule(tomorrow_local),
            **HOME,
        },
    )
    split = tomorrow_local + dt.timedelta(days=7)
    status, new = api.post(
        f"/api/series/{series['id']}/change",
        {"from_date": split.isoformat(), "rule": rule(split, days=7, weekdays=(1, 3), at="14:00")},
    )
    assert status == 200, new
    assert new["previous_id"] == series["id"]
    old = Booking.objects.filter(series_id=series["id"])
    kept = [b for b in old if b.status == BookingStatus.ACCEPTED]
    assert all(b.starts_at.astimezone(SH).date() < split for b in kept)
    assert all(b.status == BookingStatus.CANCELLED for b in old if b not in kept)
    assert [
        dt.datetime.fromisoformat(o["starts_at"]).astimezone(SH).strftime("%a %H:%M")
        for o in new["occurrences"]
    ] == [d.strftime("%a") + " 14:00" for d in expected_dates(split, 7, (1, 3))]


def test_bad_rules(customer, free_service, weekdays, tomorrow_local):
    api = api_for(customer)
    base = {"service_id": free_service.pk, "provider_id": weekdays.pk, **HOME}
    status, body = api.post("/api/series", {**base, "rule": rule(tomorrow_local, days=200)})
    assert (status, body["code"]) == (422, "invalid_date_range")
    status, body = api.post("/api/series", {**base, "rule": rule(tomorrow_local, weekdays=(9,))})
    assert (status, body["code"]) == (422, "invalid_input")
    status, body = api.post("/api/series", {**base, "address": "", "rule": rule(tomorrow_local)})
    assert (status, body["code"]) == (422, "address_required")
    assert not Booking.objects.exists()


def test_a_retried_series_with_its_idempotency_key_gets_the_first_answer(
    customer, free_service, weekdays, tomorrow_local
):
    """A phone that lost the answer retries: without a key the retry is refused (its own bookings
    are in the way); with the key it gets the series it already booked, and nothing more."""
    me = api_for(customer)
    body = {
        "service_id": free_service.pk,
        "provider_id": weekdays.pk,
        "rule": rule(tomorrow_local),
        **HOME,
    }
    key = {"Idempotency-Key": "series-1"}
    status, first = me.post("/api/series", body, headers=key)
    assert status == 201, first
    status, again = me.post("/api/series", body, headers=key)
    assert status == 201 and again == first
    assert Series.objects.count() == 1
    assert Booking.objects.count() == len(expected_dates(tomorrow_local))

    status, problem = me.post("/api/series", {**body, "skip_conflicts": True}, headers=key)
    assert (status, problem["code"]) == (422, "idempotency_key_reused")
    status, problem = me.post("/api/series", body)
    assert (status, problem["code"]) == (409, "series_conflicts")
    assert Series.objects.count() == 1
