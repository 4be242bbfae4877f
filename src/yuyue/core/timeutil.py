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
    """The UTC instants at which `day` starts and ends in zone `tz`."""
    start = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz)
    return start.astimezone(UTC), end.astimezone(UTC)


def local_dt(day: dt.date, t: dt.time, tz: ZoneInfo) -> dt.datetime:
    return dt.datetime.combine(day, t, tzinfo=tz).astimezone(UTC)
