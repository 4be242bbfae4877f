"""Engagement jobs on the database worker."""

from __future__ import annotations

import datetime as dt

from yuyue.core.periodic import periodic


@periodic(every=dt.timedelta(minutes=10))
def escalate_cases_job() -> int:
    """Every ten minutes: after-sales cases past their deadline go to the operators."""
    from .cases import escalate_overdue

    return escalate_overdue()
