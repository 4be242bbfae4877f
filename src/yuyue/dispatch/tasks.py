"""Dispatch jobs on the database worker."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task


@task()
def expire_offer_job(offer_id: int) -> bool:
    from .services import expire_offer

    return expire_offer(offer_id=offer_id)


@task()
def dispatch_round_job(reschedule: bool = True) -> int:
    """One dispatch round; then the next one in YUYUE_DISPATCH_ROUND_SECONDS."""
    from .services import run_dispatch_round

    offers = run_dispatch_round()
    if reschedule:
        transaction.on_commit(
            lambda: dispatch_round_job.using(
                run_after=timezone.now()
                + dt.timedelta(seconds=settings.YUYUE_DISPATCH_ROUND_SECONDS)
            ).enqueue()
        )
    return len(offers)


@task()
def purge_positions_job(reschedule: bool = True) -> int:
    """Delete positions no longer needed; again in an hour."""
    from .tracking import purge_positions

    count = purge_positions()
    if reschedule:
        transaction.on_commit(
            lambda: purge_positions_job.using(
                run_after=timezone.now() + dt.timedelta(hours=1)
            ).enqueue()
        )
    return count
