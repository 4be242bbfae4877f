"""Reading calendars: free places in hall slots, and free start times of providers near a point.

Provider availability works in whole real minutes from the local midnight of the asked day, so
the inner loop compares integers: working windows (weekly hours + extra hours − leave) minus
reservations (each blocking its buffer too), sampled on the service's step. Working hours are
wall-clock times; on a daylight-saving day they are placed on the real timeline by the rules of
`core.timeutil.wall_instant` (docs/time.md), and a start is offered only where the wall clock
is on the service's step, as booking requires.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from zoneinfo import ZoneInfo

from django.db.models import ExpressionWrapper, F, FloatField
from django.utils import timezone

from yuyue.accounts.models import Provider
from yuyue.catalog.models import Service, ServiceKind
from yuyue.core import sql
from yuyue.core.errors import DomainError
from yuyue.core.geo import EARTH_KM, haversine_km
from yuyue.core.timeutil import changes_clocks, local_day_bounds, wall_instant, zone

from .models import (
    AvailabilityException,
    ExceptionKind,
    ProviderReservation,
    SlotStatus,
    TimeSlot,
    WorkingHours,
)

MAX_RANGE_DAYS = 62
SEARCH_RADIUS_KM = 50.0
# The database keeps providers within this times their radius by a flat-earth distance; the
# exact test follows in Python. Far above the flat distance's error at a city's distances.
REACH_MARGIN = 1.05


# --- hall slots ------------------------------------------------------------------------------


def booking_deadline(slot: TimeSlot, service: Service) -> dt.datetime:
    if service.deadline_rule == "slot_end":
        return slot.ends_at
    return slot.starts_at - dt.timedelta(minutes=service.deadline_minutes)


def hall_availability(
    *, service: Service, date_from: dt.date, date_to: dt.date, hall_id: int | None = None
) -> list[dict]:
    """Every slot of the service in a local date range, with remaining places and bookability."""
    if service.kind != ServiceKind.HALL_SLOT:
        raise DomainError("wrong_service_kind")
    days = (date_to - date_from).days + 1
    if days < 1 or days > MAX_RANGE_DAYS:
        raise DomainError("invalid_date_range", max_days=MAX_RANGE_DAYS)
    tz = zone(service.merchant.timezone)
    start, _ = local_day_bounds(date_from, tz)
    _, end = local_day_bounds(date_to, tz)
    slots = TimeSlot.objects.filter(service=service, starts_at__gte=start, starts_at__lt=end)
    if hall_id is not None:
        slots = slots.filter(hall_id=hall_id)
    now = timezone.now()
    return [
        {
            "slot": slot,
            "remaining": slot.remaining,
            "deadline": booking_deadline(slot, service),
            "bookable": bookable(slot, service, now),
        }
        for slot in slots.select_related("hall").order_by("starts_at", "hall_id")
    ]


def bookable(slot: TimeSlot, service: Service, now: dt.datetime | None = None) -> bool:
    """Whether a customer can book the slot now: open, before its deadline and its end, with a
    place left."""
    now = now or timezone.now()
    remaining = slot.remaining
    return (
        slot.status == SlotStatus.OPEN
        and now < booking_deadline(slot, service)
        and now < slot.ends_at
        and (remaining is None or remaining > 0)
    )


# --- provider time ---------------------------------------------------------------------------


@dataclass
class ProviderDay:
    provider_id: int
    tz: ZoneInfo
    day: dt.date
    day_start: dt.datetime  # the UTC instant of the local midnight
    shifts: bool = False  # the zone's clocks change during this day (daylight saving)
    windows: list[tuple[int, int]] = field(default_factory=list)  # real minutes from day_start
    busy: list[tuple[int, int]] = field(default_factory=list)

    def at(self, minute: int) -> dt.datetime:
        """The UTC instant `minute` real minutes after the local midnight."""
        return self.day_start + dt.timedelta(minutes=minute)

    def real(self, wall: int, *, last: bool = False) -> int:
        """Real minutes from the local midnight to when the clocks show `wall` minutes."""
        if not self.shifts:
            return wall
        instant = wall_instant(self.day, wall, self.tz, last=last)
        return round((instant - self.day_start).total_seconds() / 60)

    def on_step(self, minute: int, step: int) -> bool:
        """Whether the wall clock at `minute` is on the step grid of this day."""
        local = self.at(minute).astimezone(self.tz)
        return local.date() == self.day and (local.hour * 60 + local.minute) % step == 0


def _minutes(t: dt.time) -> int:
    return t.hour * 60 + t.minute


def _subtract(windows: list[tuple[int, int]], cut: tuple[int, int]) -> list[tuple[int, int]]:
    out = []
    for a, b in windows:
        if cut[1] <= a or cut[0] >= b:
            out.append((a, b))
            continue
        if a < cut[0]:
            out.append((a, cut[0]))
        if cut[1] < b:
            out.append((cut[1], b))
    return out


def _merge(windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(windows):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _real_windows(pd: ProviderDay, weekly, extra, leave) -> list[tuple[int, int]]:
    """A day's working windows in real minutes from its local midnight: weekly hours + extra
    hours − leave, in wall-clock minutes, placed on the real timeline (a repeated hour inside a
    window counts twice, a skipped one not at all)."""
    windows = _merge(list(weekly) + list(extra))
    for cut in leave:
        windows = _subtract(windows, cut)
    real = [(pd.real(a), pd.real(b, last=True)) for a, b in windows]
    return [(a, b) for a, b in real if a < b]


@cache
def _day_sql() -> dict[str, str]:
    """`provider_days`' WHERE clauses (aliases as in `sql.values`)."""

    def col(model, name: str) -> str:
        return "t0." + sql.qn(model._meta.get_field(name).column)

    return {
        "hours": f"{sql.one_of(col(WorkingHours, 'provider'))}"
        f" AND {col(WorkingHours, 'weekday')} = %s",
        "exceptions": f"{sql.one_of(col(AvailabilityException, 'provider'))}"
        f" AND {col(AvailabilityException, 'date')} = %s",
        "reservations": f"{sql.one_of(col(ProviderReservation, 'provider'))}"
        f" AND {col(ProviderReservation, 'active')} = %s"
        f" AND {col(ProviderReservation, 'starts_at')} < %s"
        f" AND {col(ProviderReservation, 'blocked_until')} > %s",
    }


def provider_days(provider_tz: dict[int, str], day: dt.date) -> dict[int, ProviderDay]:
    """Working windows and busy intervals on a local day for each provider id."""
    ids = list(provider_tz)
    days: dict[int, ProviderDay] = {}
    for pid, tzname in provider_tz.items():
        tz = zone(tzname)
        days[pid] = ProviderDay(pid, tz, day, wall_instant(day, 0, tz), changes_clocks(day, tz))
    if not days:
        return days
    # Statements written once (yuyue.core.sql), the ids as one parameter: building the ORM's
    # queries, with a parameter per id, was a fifth of a search's time.
    q = _day_sql()
    weekly: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for pid, start, end in sql.values(
        WorkingHours,
        ("provider", "start", "end"),
        q["hours"],
        [sql.integers(ids), day.weekday()],
    ):
        weekly[pid].append((_minutes(start), _minutes(end)))
    extra: dict[int, list[tuple[int, int]]] = defaultdict(list)
    leave: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for pid, start, end, kind in sql.values(
        AvailabilityException,
        ("provider", "start", "end", "kind"),
        q["exceptions"],
        [sql.integers(ids), sql.param(AvailabilityException, "date", day)],
    ):
        (extra if kind == ExceptionKind.EXTRA else leave)[pid].append(
            (_minutes(start), _minutes(end))
        )
    for pid, pd in days.items():
        pd.windows = _real_windows(pd, weekly.get(pid, []), extra.get(pid, []), leave.get(pid, []))
    # One query for every reservation touching the day in any of the zones involved.
    lo = min(pd.day_start for pd in days.values())
    hi = max(pd.day_start for pd in days.values()) + dt.timedelta(days=1, hours=1)
    working = [pid for pid, pd in days.items() if pd.windows]
    if working:
        for pid, start, blocked in sql.values(
            ProviderReservation,
            ("provider", "starts_at", "blocked_until"),
            q["reservations"],
            [
                sql.integers(working),
                True,
                sql.param(ProviderReservation, "starts_at", hi),
                sql.param(ProviderReservation, "blocked_until", lo),
            ],
        ):
            pd = days[pid]
            a = math.floor((start - pd.day_start).total_seconds() / 60)
            b = math.ceil((blocked - pd.day_start).total_seconds() / 60)
            pd.busy.append((a, b))
    return days


def working_windows(
    zones: dict[int, str], wanted: Iterable[tuple[int, dt.date]], providers
) -> dict[tuple[int, dt.date], list[tuple[int, int]]]:
    """Each wanted (provider, local day)'s working windows as [start, end) in whole seconds
    since the epoch (UTC), for many providers at once in two statements whatever their number:
    `providers` is a queryset of the providers' ids (a subquery), `zones` each one's zone.

    The same rules as `provider_days`; days alike (same zone, date, hours and exceptions) are
    worked out once, so a city's providers with the usual hours cost a dictionary look-up each."""
    wanted = set(wanted)
    if not wanted:
        return {}
    weekdays = sorted({day.weekday() for _, day in wanted})
    lo, hi = min(day for _, day in wanted), max(day for _, day in wanted)
    weekly: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    for pid, weekday, start, end in WorkingHours.objects.filter(
        provider__in=providers, weekday__in=weekdays
    ).values_list("provider", "weekday", "start", "end"):
        weekly[pid, weekday].append((_minutes(start), _minutes(end)))
    extra: dict[tuple[int, dt.date], list[tuple[int, int]]] = defaultdict(list)
    leave: dict[tuple[int, dt.date], list[tuple[int, int]]] = defaultdict(list)
    for pid, day, start, end, kind in AvailabilityException.objects.filter(
        provider__in=providers, date__gte=lo, date__lte=hi
    ).values_list("provider", "date", "start", "end", "kind"):
        (extra if kind == ExceptionKind.EXTRA else leave)[pid, day].append(
            (_minutes(start), _minutes(end))
        )
    alike: dict[tuple, list[tuple[int, int]]] = {}
    out = {}
    for pid, day in wanted:
        hours = tuple(sorted(weekly.get((pid, day.weekday()), ())))
        more, less = tuple(extra.get((pid, day), ())), tuple(leave.get((pid, day), ()))
        key = (zones[pid], day, hours, more, less)
        windows = alike.get(key)
        if windows is None:
            tz = zone(zones[pid])
            pd = ProviderDay(pid, tz, day, wall_instant(day, 0, tz), changes_clocks(day, tz))
            base = int(pd.day_start.timestamp())
            windows = alike[key] = [
                (base + a * 60, base + b * 60) for a, b in _real_windows(pd, hours, more, less)
            ]
        out[pid, day] = windows
    return out


def free_starts(
    pd: ProviderDay, *, duration: int, buffer: int, step: int, not_before_minute: int
) -> list[int]:
    """Start minutes (on the step grid) where the job fits a window and job + buffer are free."""
    if pd.shifts:
        return _free_starts_shifting(
            pd, duration=duration, buffer=buffer, step=step, not_before_minute=not_before_minute
        )
    busy = sorted(pd.busy)
    out = []
    for a, b in pd.windows:
        t = max(a, not_before_minute)
        t = -(-t // step) * step  # round up to the grid
        while t + duration <= b:
            end = t + duration + buffer
            clash = next((bb for ba, bb in busy if ba < end and bb > t), None)
            if clash is None:
                out.append(t)
                t += step
            else:
                t = -(-clash // step) * step  # jump past the reservation
        # windows are disjoint and sorted
    return out


def _free_starts_shifting(
    pd: ProviderDay, *, duration: int, buffer: int, step: int, not_before_minute: int
) -> list[int]:
    """`free_starts` on a day the clocks change: every real minute on a 15-minute grid (all
    offsets change by a multiple of it) whose wall-clock time is on the step grid, so that a
    repeated hour gives its starts twice (two instants) and a skipped one none."""
    grid = math.gcd(step, 15)
    out = []
    for a, b in pd.windows:
        t = -(-max(a, not_before_minute) // grid) * grid
        while t + duration <= b:
            end = t + duration + buffer
            free = not any(ba < end and bb > t for ba, bb in pd.busy)
            if free and pd.on_step(t, step):
                out.append(t)
            t += grid
    return out


def _now_minute(pd: ProviderDay) -> int:
    now = timezone.now()
    return math.ceil((now - pd.day_start).total_seconds() / 60)


def covering_point(providers, lat: float, lng: float):
    """The providers of the queryset whose radius covers the point, within SEARCH_RADIUS_KM.

    A box first (indexable), then a flat-earth distance (plain arithmetic, on SQLite too)
    within 5% more than each one's radius, a margin well above its error at these distances;
    the exact (haversine) test is the caller's, in Python. Most of a city's providers do not
    cover a given point, and reading them was most of a search's time."""
    dlat = SEARCH_RADIUS_KM / 111.0
    dlng = SEARCH_RADIUS_KM / (111.0 * max(math.cos(math.radians(lat)), 0.01))
    km_lat = math.radians(1) * EARTH_KM
    km_lng = km_lat * max(math.cos(math.radians(lat)), 0.01)
    north, east = (F("lat") - lat) * km_lat, (F("lng") - lng) * km_lng
    return (
        providers.filter(
            lat__gte=lat - dlat,
            lat__lte=lat + dlat,
            lng__gte=lng - dlng,
            lng__lte=lng + dlng,
        )
        .alias(
            flat_km2=ExpressionWrapper(north * north + east * east, output_field=FloatField()),
            reach_km2=ExpressionWrapper(
                F("service_radius_km") * F("service_radius_km") * REACH_MARGIN**2,
                output_field=FloatField(),
            ),
        )
        .filter(flat_km2__lte=F("reach_km2"))
    )


def _covering(
    service: Service, lat: float, lng: float, provider_id: int | None
) -> list[tuple[float, int, str, str]]:
    """(distance, id, name, zone) of the qualified providers whose radius covers the point,
    nearest first: active, verified, offering the service."""
    rows = covering_point(
        Provider.objects.filter(active=True, verified=True, services=service), lat, lng
    )
    if provider_id is not None:
        rows = rows.filter(pk=provider_id)
    candidates = []
    for pid, name, plat, plng, radius, own_tz, merchant_tz in rows.values_list(
        "id", "display_name", "lat", "lng", "service_radius_km", "timezone", "merchant__timezone"
    ):
        tzname = merchant_tz or own_tz
        distance = haversine_km(lat, lng, plat, plng)
        if distance <= radius:
            candidates.append((distance, pid, name, tzname))
    candidates.sort()
    return candidates


def _remote(service: Service, provider_id: int | None) -> list[tuple[None, int, str, str]]:
    """(None, id, name, zone) of the qualified providers of a remote service (a call has no
    place: nobody is nearer), best rated first."""
    rows = Provider.objects.filter(active=True, verified=True, services=service)
    if provider_id is not None:
        rows = rows.filter(pk=provider_id)
    return [
        (None, pid, name, merchant_tz or own_tz)
        for pid, name, own_tz, merchant_tz in rows.order_by("-rating", "id").values_list(
            "id", "display_name", "timezone", "merchant__timezone"
        )
    ]


def provider_availability(
    *,
    service: Service,
    day: dt.date,
    lat: float | None = None,
    lng: float | None = None,
    limit: int = 20,
    provider_id: int | None = None,
) -> list[dict]:
    """Qualified providers with free starts on a local day: for a service at a place, the
    nearest who can come to (lat, lng); for a remote one (a timed call), wherever they are.

    Qualified: active, verified, offering the service, and (at a place) covering the point with
    their radius. Providers are considered nearest (or best rated) first, in chunks, until
    `limit` with free time are found.
    """
    if service.kind == ServiceKind.HALL_SLOT:
        raise DomainError("wrong_service_kind")
    if service.kind == ServiceKind.REMOTE:
        candidates = _remote(service, provider_id)
    else:
        if lat is None or lng is None:
            raise DomainError("invalid_input", "lat and lng: where the service is wanted.")
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise DomainError("invalid_input", "lat/lng out of range.")
        candidates = _covering(service, lat, lng, provider_id)
    duration, buffer, step = service.duration_minutes, service.buffer_minutes, service.step_minutes
    out: list[dict] = []
    looked = 0
    while looked < len(candidates):
        # As many as should give what is still missing, judged by the share of those looked at
        # so far that had free time (at first 0.8): a chunk costs three statements, and each
        # provider in it their rows, so neither too few nor (as a fixed 2 x limit did) too many.
        rate = len(out) / looked if looked else 0.8
        chunk = max(10, math.ceil((limit - len(out)) / max(rate, 0.1) * 1.1))
        part = candidates[looked : looked + chunk]
        looked += len(part)
        days = provider_days({pid: tzname for _, pid, _, tzname in part}, day)
        for distance, pid, name, _ in part:
            pd = days[pid]
            starts = free_starts(
                pd, duration=duration, buffer=buffer, step=step, not_before_minute=_now_minute(pd)
            )
            if not starts:
                continue
            out.append(
                {
                    "provider_id": pid,
                    "name": name,
                    "distance_km": None if distance is None else round(distance, 2),
                    "starts": [pd.at(m) for m in starts],
                }
            )
            if len(out) >= limit:
                return out
    return out


def provider_works(provider: Provider, starts_at: dt.datetime, ends_at: dt.datetime) -> bool:
    """Whether [starts_at, ends_at) lies inside one of the provider's working windows."""
    tz = zone(provider.zone_name)
    local = starts_at.astimezone(tz)
    pd = provider_days({provider.pk: provider.zone_name}, local.date())[provider.pk]
    a = round((starts_at - pd.day_start).total_seconds() / 60)
    b = round((ends_at - pd.day_start).total_seconds() / 60)
    return any(wa <= a and b <= wb for wa, wb in pd.windows)


def on_step(service: Service, starts_at: dt.datetime, tzname: str) -> bool:
    local = starts_at.astimezone(zone(tzname))
    minute = local.hour * 60 + local.minute
    return local.second == 0 and local.microsecond == 0 and minute % service.step_minutes == 0
