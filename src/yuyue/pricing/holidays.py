"""China's public holidays and adjusted working days (调休): from the chinese-calendar package,
and for the years it does not know yet, from what operators enter (`PublicDay`).

The package ships each year's schedule some time after the State Council announces it (late in
the year before), so for a while next year is unknown. Then a day is priced as an ordinary day,
the quote says so (a `calendar_unknown` line), operators see the year in
`GET /api/ops/public-days` and in `manage.py check`, and can enter the schedule themselves.
"""

from __future__ import annotations

import datetime as dt
from importlib.metadata import version

import chinese_calendar
from django.db import transaction
from django.utils import timezone

from yuyue.accounts.auth import require_operator
from yuyue.core.audit import audit
from yuyue.core.errors import DomainError

from .models import DayKind, PublicDay


def package_years() -> tuple[int, int]:
    """The first and last year the installed chinese-calendar knows."""
    years = {d.year for d in chinese_calendar.holidays}
    return min(years), max(years)


def known(year: int) -> bool:
    """Whether the schedule of `year` is known: from the package or entered by operators."""
    first, last = package_years()
    return first <= year <= last or PublicDay.objects.filter(date__year=year).exists()


def day_kind(day: dt.date) -> tuple[str, bool]:
    """('holiday' | 'weekend' | 'workday', whether the schedule of its year is known). An
    adjusted working day 调休 on a weekend is a workday; a holiday on a weekday is a holiday."""
    entered = PublicDay.objects.filter(date=day).values_list("kind", flat=True).first()
    if entered is not None:
        return ("holiday" if entered == DayKind.HOLIDAY else "workday"), True
    first, last = package_years()
    if first <= day.year <= last:
        on, name = chinese_calendar.get_holiday_detail(day)
        return ("holiday" if on and name else "weekend" if on else "workday"), True
    is_known = PublicDay.objects.filter(date__year=day.year).exists()
    return ("weekend" if day.weekday() >= 5 else "workday"), is_known


def unknown_years(today: dt.date | None = None, horizon_days: int = 366) -> list[int]:
    """Years between today and the horizon whose schedule is not known."""
    today = today or timezone.localdate()
    years = range(today.year, (today + dt.timedelta(days=horizon_days)).year + 1)
    return [y for y in years if not known(y)]


def calendar_status() -> dict:
    first, last = package_years()
    entered = sorted({d.year for d in PublicDay.objects.dates("date", "year")})
    return {
        "package_version": version("chinese-calendar"),
        "package_years": [first, last],
        "entered_years": entered,
        "unknown_years": unknown_years(),
    }


def set_year(*, actor, year: int, days: list[dict]) -> list[PublicDay]:
    """An operator enters (or replaces) a year's schedule: its holidays and adjusted working
    days as announced."""
    require_operator(actor)
    rows = []
    for entry in days:
        day = entry["date"]
        if day.year != year:
            raise DomainError("invalid_input", f"{day} is not in {year}.")
        if entry["kind"] not in DayKind.values:
            raise DomainError("invalid_input", "kind is holiday or workday.")
        rows.append(PublicDay(date=day, kind=entry["kind"], name=(entry.get("name") or "")[:60]))
    if len({r.date for r in rows}) != len(rows):
        raise DomainError("invalid_input", "A date is given twice.")
    with transaction.atomic():
        PublicDay.objects.filter(date__year=year).delete()
        PublicDay.objects.bulk_create(rows)
        audit(actor, "public_days.set", None, year=year, days=len(rows))
    return list(PublicDay.objects.filter(date__year=year))
