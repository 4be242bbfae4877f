"""Free start times of providers near a point: hours, leave, reservations with buffers, radius."""

from __future__ import annotations

import datetime as dt
import math
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import api_for, make_user
from yuyue.accounts.models import Provider
from yuyue.scheduling.models import AvailabilityException, ProviderReservation, WorkingHours

SH = ZoneInfo("Asia/Shanghai")


def local(day, hour, minute=0):
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SH)


@pytest.fixture
def near(provider, tomorrow_local):
    WorkingHours.objects.create(
        provider=provider, weekday=tomorrow_local.weekday(), start=dt.time(9), end=dt.time(14)
    )
    return provider


def free(service, day, lat=31.23, lng=121.47):
    status, body = api_for(None).get(
        f"/api/services/{service.pk}/provider-availability",
        {"date": day.isoformat(), "lat": lat, "lng": lng},
    )
    assert status == 200, body
    return {
        p["provider_id"]: [
            dt.datetime.fromisoformat(s).astimezone(SH).strftime("%H:%M") for s in p["starts"]
        ]
        for p in body
    }


def test_starts_on_the_step_within_hours(onsite_service, near, tomorrow_local):
    # 2 h job, 30 min step, hours 09:00-14:00 → last start 12:00
    assert free(onsite_service, tomorrow_local) == {
        near.pk: ["09:00", "09:30", "10:00", "10:30", "11:00", "11:30", "12:00"]
    }


def test_reservation_and_buffers_block_time(onsite_service, near, tomorrow_local):
    ProviderReservation.objects.create(
        provider=near,
        starts_at=local(tomorrow_local, 11),
        ends_at=local(tomorrow_local, 12),
        blocked_until=local(tomorrow_local, 12, 30),
    )
    # Hours 09-14: a 2 h job plus its 30 min buffer cannot finish before 11:00, nor fit after
    # 12:30; a provider with no free start is not listed at all.
    assert free(onsite_service, tomorrow_local) == {}
    AvailabilityException.objects.create(
        provider=near, date=tomorrow_local, start=dt.time(14), end=dt.time(16), kind="extra"
    )
    assert free(onsite_service, tomorrow_local) == {near.pk: ["12:30", "13:00", "13:30", "14:00"]}
    ProviderReservation.objects.update(active=False)  # a cancelled job blocks nothing
    assert free(onsite_service, tomorrow_local)[near.pk][0] == "09:00"


def test_leave_removes_time(onsite_service, near, tomorrow_local):
    AvailabilityException.objects.create(
        provider=near, date=tomorrow_local, start=dt.time(9), end=dt.time(11), kind="leave"
    )
    assert free(onsite_service, tomorrow_local) == {near.pk: ["11:00", "11:30", "12:00"]}


def test_only_qualified_providers_within_their_radius(
    onsite_service, near, merchant, tomorrow_local
):
    far = Provider.objects.create(
        user=make_user(),
        merchant=merchant,
        display_name="far",
        verified=True,
        lat=31.60,
        lng=121.47,
        service_radius_km=10,
    )
    far.services.add(onsite_service)
    WorkingHours.objects.create(
        provider=far, weekday=tomorrow_local.weekday(), start=dt.time(9), end=dt.time(14)
    )
    unverified = Provider.objects.create(
        user=make_user(),
        merchant=merchant,
        display_name="new",
        verified=False,
        lat=31.23,
        lng=121.47,
    )
    unverified.services.add(onsite_service)
    WorkingHours.objects.create(
        provider=unverified, weekday=tomorrow_local.weekday(), start=dt.time(9), end=dt.time(14)
    )
    assert set(free(onsite_service, tomorrow_local)) == {near.pk}  # far is 41 km away
    assert set(free(onsite_service, tomorrow_local, lat=31.58)) == {far.pk}


@pytest.mark.parametrize("lat", [31.23, 60.0])
def test_the_radius_is_exact_at_its_edge(onsite_service, merchant, tomorrow_local, lat):
    """The database keeps providers whose radius nearly covers the point (a flat-earth distance
    with a margin); the answer holds exactly those the great-circle distance puts inside, also
    north-east of the point and far north, where the flat distance errs most."""
    from yuyue.scheduling.availability import haversine_km

    def north_east(km: float) -> tuple[float, float]:
        """The point `km` great-circle kilometres north-east of (lat, 121.47), by bisection."""
        lo, hi = 0.0, 1.0
        step = (0.2, 0.2 / math.cos(math.radians(lat)))
        for _ in range(60):
            mid = (lo + hi) / 2
            if haversine_km(lat, 121.47, lat + mid * step[0], 121.47 + mid * step[1]) < km:
                lo = mid
            else:
                hi = mid
        return lat + lo * step[0], 121.47 + lo * step[1]

    providers = {}
    for name, km in (("inside", 9.998), ("outside", 10.002)):  # a radius of 10 km
        plat, plng = north_east(km)
        p = Provider.objects.create(
            user=make_user(),
            merchant=merchant,
            display_name=name,
            verified=True,
            lat=plat,
            lng=plng,
            service_radius_km=10,
        )
        p.services.add(onsite_service)
        WorkingHours.objects.create(
            provider=p, weekday=tomorrow_local.weekday(), start=dt.time(9), end=dt.time(14)
        )
        providers[name] = p
    distances = {n: haversine_km(lat, 121.47, p.lat, p.lng) for n, p in providers.items()}
    assert distances["inside"] < 10 < distances["outside"]
    assert set(free(onsite_service, tomorrow_local, lat=lat)) == {providers["inside"].pk}


def test_the_answer_is_what_the_schema_gives(onsite_service, near, tomorrow_local):
    """The search's answer is sent as built (not validated on the way out): it must be exactly
    the schema-validated answer."""
    import json

    from ninja.responses import NinjaJSONEncoder

    from yuyue.scheduling.api import ProviderFree
    from yuyue.scheduling.availability import provider_availability

    status, body = api_for(None).get(
        f"/api/services/{onsite_service.pk}/provider-availability",
        {"date": tomorrow_local.isoformat(), "lat": 31.23, "lng": 121.47},
    )
    assert status == 200 and body
    built = provider_availability(service=onsite_service, day=tomorrow_local, lat=31.23, lng=121.47)
    validated = [ProviderFree.model_validate(p).model_dump() for p in built]
    assert body == json.loads(json.dumps(validated, cls=NinjaJSONEncoder))
    assert all(set(p) == set(ProviderFree.model_fields) for p in body)


def test_bad_point(onsite_service, tomorrow_local):
    status, body = api_for(None).get(
        f"/api/services/{onsite_service.pk}/provider-availability",
        {"date": tomorrow_local.isoformat(), "lat": 95, "lng": 0},
    )
    assert (status, body["code"]) == (422, "invalid_input")


def test_a_service_at_a_place_needs_the_point(onsite_service, near, tomorrow_local):
    status, body = api_for(None).get(
        f"/api/services/{onsite_service.pk}/provider-availability",
        {"date": tomorrow_local.isoformat()},
    )
    assert (status, body["code"]) == (422, "invalid_input")
    assert "lat and lng" in body["detail"]
