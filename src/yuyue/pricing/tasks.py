"""Pricing jobs on the database worker."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from yuyue.core.periodic import periodic

# From this many days before a year starts, operators are told when its holidays are unknown.
WARN_DAYS = 45


@periodic(every=dt.timedelta(days=1))
def holiday_calendar_job() -> list[int]:
    """Tell the operators (an in-app notice, at most once a week) about a year that starts
    within WARN_DAYS or has started and whose public-holiday schedule nobody knows yet."""
    from yuyue.accounts.models import User
    from yuyue.notifications.models import Notice
    from yuyue.notifications.sending import notify

    from .holidays import unknown_years

    years = unknown_years(horizon_days=WARN_DAYS)
    if not years:
        return []
    week_ago = timezone.now() - dt.timedelta(days=7)
    if Notice.objects.filter(kind="calendar.unknown", created_at__gte=week_ago).exists():
        return years
    for operator in User.objects.filter(is_operator=True, is_active=True).values_list(
        "pk", flat=True
    ):
        notify(operator, "calendar.unknown", years=years, where="/api/ops/public-days")
    return years
