"""Time is stored in UTC and shown in the merchant's zone."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo, available_timezones

from django.utils import timezone

from .errors import DomainError

UTC = dt.UTC


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except Exception as exc:
        raise DomainError("invalid_timezone") from exc


def is_valid_zone(name: str) -> bool:
    return name in available_timezones()


def now() -> dt.datetime:
    return timezone.now()


def aware(at: dt.datetime, field: str = "starts_at") -> dt.datetime:
    """`at`, refused as bad input when it has no zone offset: "10:00" alone names no one moment."""
    if at.tzinfo is None:
        raise DomainError("invalid_input", f"{field} must carry a zone offset.")
    return at


def ahead(at: dt.datetime, field: str = "starts_at") -> dt.datetime:
    """`at` if it has a zone offset (else `invalid_input`) and is yet to come (else `time_past`)."""
    if aware(at, field) <= timezone.now():
        raise DomainError("time_past")
    return at


def local_day_bounds(day: dt.date, tz: ZoneInfo) -> tuple[dt.datetime, dt.datetime]:
    """The UTC instants at which `day` starts and ends in zone `tz` (23 or 25 hours apart on
    daylight-saving days)."""
    return wall_instant(day, 0, tz), wall_instant(day, 1440, tz)


def local_dt(day: dt.date, t: dt.time, tz: ZoneInfo) -> dt.datetime:
    """The instant `day` at `t` on the zone's clocks (see `wall_instant` for the rules)."""
    return wall_instant(day, t.hour * 60 + t.minute, tz)


def _exists(naive: dt.datetime, instant: dt.datetime, tz: ZoneInfo) -> bool:
    return instant.astimezone(tz).replace(tzinfo=None) == naive


def wall_instant(day: dt.date, minute: int, tz: ZoneInfo, *, last: bool = False) -> dt.datetime:
    """The UTC instant at which the zone's clocks show `minute` minutes after midnight of `day`
    (1440 is the next midnight). The rules where daylight saving changes the clocks
    (docs/time.md):

    - a time that is skipped (clocks jump forward over it) happens at the jump: the first time
      that exists after it (02:30 on a spring-forward night in New York is 03:00 EDT);
    - a time that happens twice (clocks go back) is its first occurrence, or its last with
      `last=True` (the end of a working window takes in both).
    """
    base = day + dt.timedelta(days=minute // 1440)
    naive = dt.datetime.combine(base, dt.time()) + dt.timedelta(minutes=minute % 1440)
    first = naive.replace(tzinfo=tz, fold=0).astimezone(UTC)
    second = naive.replace(tzinfo=tz, fold=1).astimezone(UTC)
    early, late = min(first, second), max(first, second)
    if _exists(naive, early, tz):
        return late if last and _exists(naive, late, tz) else early
    for k in range(1, 24 * 60):  # skipped: the first minute that exists after it
        later = naive + dt.timedelta(minutes=k)
        instant = later.replace(tzinfo=tz).astimezone(UTC)
        if _exists(later, instant, tz):
            return instant
    raise ValueError(f"no time exists after {naive} in {tz}")


def is_skipped(day: dt.date, t: dt.time, tz: ZoneInfo) -> bool:
    """Whether the zone's clocks never show `t` on `day` (jumped over by daylight saving)."""
    naive = dt.datetime.combine(day, t)
    return not _exists(naive, naive.replace(tzinfo=tz).astimezone(UTC), tz)


def changes_clocks(day: dt.date, tz: ZoneInfo) -> bool:
    """Whether the zone's offset from UTC changes during `day` (a daylight-saving day)."""
    start, end = wall_instant(day, 0, tz), wall_instant(day, 1440, tz)
    return start.astimezone(tz).utcoffset() != end.astimezone(tz).utcoffset()
