"""Choosing a provider: filters a customer uses, and a profile with free times."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.conftest import api_for, make_user
from yuyue.accounts.models import Credential, Provider
from yuyue.scheduling.models import ProviderReservation, WorkingHours


@pytest.fixture
def crew(merchant, onsite_service):
    year = timezone.now().year

    def make(name, **kw):
        p = Provider.objects.create(
            user=make_user(name), merchant=merchant, display_name=name, verified=True, **kw
        )
        p.services.add(onsite_service)
        return p

    return {
        "wang": make(
            "Wang",
            gender="female",
            birth_year=year - 30,
            experience_years=8,
            rating=4.9,
            lat=31.23,
            lng=121.47,
            service_radius_km=10,
            price_fen=15000,
        ),
        "li": make(
            "Li",
            gender="male",
            birth_year=year - 45,
            experience_years=20,
            rating=4.5,
            lat=31.30,
            lng=121.50,
            service_radius_km=15,
        ),
        "zhao": make(
            "Zhao",
            gender="female",
            birth_year=year - 24,
            experience_years=1,
            rating=4.7,
            lat=31.90,
            lng=121.47,
            service_radius_km=5,
        ),
    }


def names(params):
    status, body = api_for(None).get("/api/providers", params)
    assert status == 200, body
    return [p["name"] for p in body]


def test_filters(crew, onsite_service):
    sid = onsite_service.pk
    assert names({"service_id": sid}) == ["Wang", "Zhao", "Li"]  # by rating
    assert names({"service_id": sid, "gender": "female"}) == ["Wang", "Zhao"]
    assert names({"service_id": sid, "age_min": 28, "age_max": 40}) == ["Wang"]
    assert names({"service_id": sid, "experience_min": 5, "sort": "experience"}) == ["Li", "Wang"]
    assert names({"service_id": sid, "price_max_fen": 12000}) == ["Zhao", "Li"]  # base 12000
    assert names({"service_id": sid, "rating_min": 4.6}) == ["Wang", "Zhao"]
    # Zhao works 5 km around a point 74 km north: not listed for a customer in the centre
    assert names({"service_id": sid, "lat": 31.23, "lng": 121.47, "sort": "distance"}) == [
        "Wang",
        "Li",
    ]


def test_unverified_never_listed(crew, onsite_service):
    Provider.objects.filter(pk=crew["wang"].pk).update(verified=False)
    assert "Wang" not in names({"service_id": onsite_service.pk})
    status, body = api_for(None).get(f"/api/providers/{crew['wang'].pk}")
    assert (status, body["code"]) == (404, "not_found")


def test_profile_with_credentials_and_free_times(crew, onsite_service, tomorrow_local):
    wang = crew["wang"]
    Credential.objects.create(
        provider=wang, kind="health certificate", number="HC1234567890", verified=True
    )
    Credential.objects.create(provider=wang, kind="unchecked", number="X", verified=False)
    WorkingHours.objects.create(
        provider=wang, weekday=tomorrow_local.weekday(), start=dt.time(9), end=dt.time(13)
    )
    tz = dt.timezone(dt.timedelta(hours=8))
    ProviderReservation.objects.create(
        provider=wang,
        starts_at=dt.datetime.combine(tomorrow_local, dt.time(9), tzinfo=tz),
        ends_at=dt.datetime.combine(tomorrow_local, dt.time(10), tzinfo=tz),
        blocked_until=dt.datetime.combine(tomorrow_local, dt.time(10, 30), tzinfo=tz),
    )
    status, body = api_for(None).get(
        f"/api/providers/{wang.pk}",
        {"service_id": onsite_service.pk, "date": tomorrow_local.isoformat()},
    )
    assert status == 200, body
    assert [c["kind"] for c in body["credentials"]] == ["health certificate"]
    assert body["credentials"][0]["number"] == "HC12****7890"
    local = [
        dt.datetime.fromisoformat(s).astimezone(tz).strftime("%H:%M") for s in body["free_starts"]
    ]
    assert local == ["10:30", "11:00"]  # 2 h jobs must end by 13:00


def test_bad_filters(crew):
    assert api_for(None).get("/api/providers", {"lat": 31.2})[1]["code"] == "invalid_input"
    assert api_for(None).get("/api/providers", {"rating_min": 9})[0] == 422
    assert api_for(None).get("/api/providers", {"service_id": 999999})[1]["code"] == "not_found"
