"""Daylight saving: availability, booking and templates agree with zoneinfo on the days the
clocks change, in several zones (docs/time.md has the rules).

The expected starts are computed here independently, minute by minute on the real timeline:
every instant of the local day whose wall-clock time is on the service's step and from which
the whole job stays inside the working hours (wall clock), with no instant listed twice.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import api_for
from yuyue.catalog.models import Hall
from yuyue.scheduling.models import SlotTemplate, TimeSlot, WorkingHours

UTC = dt.UTC

# (zone, a day the clocks go forward, a day they go back), all in 2027
DAYS = [
    ("America/New_York", dt.date(2027, 3, 14), dt.date(2027, 11, 7)),
    ("Europe/London", dt.date(2027, 3, 28), dt.date(2027, 10, 31)),
    ("Australia/Sydney", dt.date(2027, 10, 3), dt.date(2027, 4, 4)),
    ("Australia/Lord_Howe", dt.date(2027, 10, 3), dt.date(2027, 4, 4)),  # 30-minute shifts
]
CASES = [(z, d, kind) for z, f, b in DAYS for d, kind in ((f, "forward"), (b, "back"))]


def _expected(day: dt.date, tz: ZoneInfo, hours: tuple[int, int], job: int, step: int):
    """UTC starts, brute force over every real minute of the local day."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(UTC) - dt.timedelta(hours=3)
    minutes = [start + dt.timedelta(minutes=i) for i in range(30 * 60)]

    def inside(instant) -> bool:
        local = instant.astimezone(tz)
        wall = local.hour * 60 + local.minute
        return local.date() == day and hours[0] * 60 <= wall < hours[1] * 60

    out = []
    for i, t in enumerate(minutes[: -job - 1]):
        local = t.astimezone(tz)
        if (local.hour * 60 + local.minute) % step or not inside(t):
            continue
        if all(inside(u) for u in minutes[i : i + job]):
            out.append(t)
    return out


@pytest.fixture
def set_zone(merchant, provider, onsite_service):
    def apply(zone_name: str, day: dt.date, hours=(0, 6), job=60, step=30):
        merchant.timezone = zone_name
        merchant.save()
        onsite_service.duration_minutes, onsite_service.step_minutes = job, step
        onsite_service.buffer_minutes = 0
        onsite_service.save()
        WorkingHours.objects.filter(provider=provider).delete()
        WorkingHours.objects.create(
            provider=provider,
            weekday=day.weekday(),
            start=dt.time(hours[0]),
            end=dt.time(hours[1]) if hours[1] < 24 else dt.time(23, 59),
        )
        return ZoneInfo(zone_name)

    return apply


def _offered(service, provider, day) -> list[dt.datetime]:
    status, body = api_for(None).get(
        f"/api/services/{service.pk}/provider-availability",
        {"date": day.isoformat(), "lat": provider.lat, "lng": provider.lng},
    )
    assert status == 200, body
    return [dt.datetime.fromisoformat(s) for p in body for s in p["starts"]]


@pytest.mark.parametrize("zone_name,day,kind", CASES)
@pytest.mark.parametrize("job,step", [(60, 30), (30, 15), (120, 60)])
def test_availability_is_zoneinfos_real_timeline(
    set_zone, onsite_service, provider, zone_name, day, kind, job, step
):
    tz = set_zone(zone_name, day, job=job, step=step)
    offered = _offered(onsite_service, provider, day)
    assert len(offered) == len(set(offered)), "a start listed twice"
    assert offered == _expected(day, tz, (0, 6), job, step)


@pytest.mark.parametrize("zone_name,day,kind", [c for c in CASES if c[2] == "back"])
def test_a_start_in_the_repeated_hour_is_offered_and_booked(
    set_zone, onsite_service, provider, customer, zone_name, day, kind
):
    tz = set_zone(zone_name, day)
    offered = _offered(onsite_service, provider, day)
    walls = [t.astimezone(tz).strftime("%H:%M") for t in offered]
    repeated = sorted({w for w in walls if walls.count(w) == 2})
    assert repeated, walls  # the hour that happens twice gives its starts twice
    second = [t for t in offered if t.astimezone(tz).strftime("%H:%M") == repeated[0]][1]
    status, body = api_for(customer).post(
        "/api/provider-bookings",
        {
            "service_id": onsite_service.pk,
            "provider_id": provider.pk,
            "address": "5 Ruijin Road",
            "starts_at": second.isoformat(),
        },
    )
    assert status == 201, body
    assert dt.datetime.fromisoformat(body["starts_at"]) == second
    assert second not in _offered(onsite_service, provider, day)  # taken: no longer offered


@pytest.mark.parametrize("zone_name,forward,back", DAYS)
def test_templates_follow_the_rules_on_both_days(
    owner, merchant, hall_service, zone_name, forward, back
):
    merchant.timezone = zone_name
    merchant.save()
    tz = ZoneInfo(zone_name)
    hall = Hall.objects.create(merchant=merchant, name="DST hall")
    skipped_hour = _skipped_hour(forward, tz)
    repeated_hour = _repeated_hour(back, tz)
    api = api_for(owner)
    templates = []
    for day, hhmm, created, skipped in (
        (forward, skipped_hour, 1, [{"date": forward.isoformat(), "start": skipped_hour}]),
        (back, repeated_hour, 2, []),
    ):
        rows = [
            {"weekdays": [day.weekday()], "start": hhmm, "end": _plus(hhmm, 60), "capacity": 5},
            {"weekdays": [day.weekday()], "start": "09:00", "end": "10:00", "capacity": 5},
        ]
        status, template = api.post(
            f"/api/merchants/{merchant.pk}/slot-templates",
            {"service_id": hall_service.pk, "hall_id": hall.pk, "name": str(day), "rows": rows},
        )
        assert status == 201, template
        templates.append(template["id"])
        status, body = api.post(
            f"/api/merchants/{merchant.pk}/slot-templates/{template['id']}/fill",
            {"date_from": day.isoformat(), "date_to": day.isoformat()},
        )
        assert (status, body) == (200, {"created": created, "skipped": skipped})
    slots = {
        (s.starts_at.astimezone(tz).date(), s.starts_at.astimezone(tz).strftime("%H:%M")): s
        for s in TimeSlot.objects.filter(template_id__in=templates)
    }
    # the skipped start is not placed; every slot lasts its row's 60 real minutes
    assert (forward, skipped_hour) not in slots
    assert all(s.ends_at - s.starts_at == dt.timedelta(minutes=60) for s in slots.values())
    repeated = slots[(back, repeated_hour)]
    naive = dt.datetime.combine(back, dt.time.fromisoformat(repeated_hour))
    assert repeated.starts_at == naive.replace(tzinfo=tz, fold=0).astimezone(UTC)  # the first
    assert SlotTemplate.objects.count() == 2


def _plus(hhmm: str, minutes: int) -> str:
    t = dt.datetime.combine(dt.date.today(), dt.time.fromisoformat(hhmm))
    return (t + dt.timedelta(minutes=minutes)).strftime("%H:%M")


def _walls(day: dt.date, tz: ZoneInfo) -> list[str]:
    start = dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(UTC)
    out = []
    for i in range(0, 26 * 60, 30):
        local = (start + dt.timedelta(minutes=i)).astimezone(tz)
        if local.date() == day:
            out.append(local.strftime("%H:%M"))
    return out


def _skipped_hour(day: dt.date, tz: ZoneInfo) -> str:
    seen = set(_walls(day, tz))
    return next(
        f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 30) if f"{h:02d}:{m:02d}" not in seen
    )


def _repeated_hour(day: dt.date, tz: ZoneInfo) -> str:
    walls = _walls(day, tz)
    return next(w for w in walls if walls.count(w) == 2)
