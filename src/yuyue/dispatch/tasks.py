"""Dispatch jobs on the database worker."""

from __future__ import annotations

import datetime as dt

from django_tasks import task

from yuyue.core.periodic import periodic


@task()
def expire_offers_job() -> int:
    """A round's offers are due: every pending offer past its time expires."""
    from .services import expire_due_offers

    return expire_due_offers()


@task()
def push_offers_job(offer_ids: list[int]) -> int:
    """A round's new offers, to their providers' open pages and inboxes."""
    from .offers_live import push_offers

    return push_offers(offer_ids)


@periodic(every="YUYUE_DISPATCH_ROUND_SECONDS")
def dispatch_round_job() -> int:
    """One dispatch round; then the next one in YUYUE_DISPATCH_ROUND_SECONDS."""
    from .services import run_dispatch_round

    return len(run_dispatch_round())


@periodic(every=dt.timedelta(hours=1))
def purge_positions_job() -> int:
    """Delete positions no longer needed; again in an hour."""
    from .tracking import purge_positions

    return purge_positions()
