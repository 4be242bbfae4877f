"""Housekeeping jobs, run by the database-backed worker (`manage.py db_worker`).

django-tasks has no cron: a periodic job enqueues its own next run when it finishes, and
`ensure_periodic_jobs` (run by `make run` and on deploy) enqueues the first one if none is waiting.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django_tasks import task

PURGE_EVERY = dt.timedelta(hours=1)
IDEMPOTENCY_RETENTION = dt.timedelta(hours=48)
OTP_RETENTION = dt.timedelta(days=1)


@task()
def purge_expired(reschedule: bool = True) -> dict:
    """Delete spent login codes, expired tokens and old idempotency records; run again later."""
    from yuyue.accounts.models import ApiToken, OneTimeCode

    from .models import IdempotencyRecord

    now = timezone.now()
    counts = {
        "otp": OneTimeCode.objects.filter(expires_at__lt=now - OTP_RETENTION).delete()[0],
        "tokens": ApiToken.objects.filter(expires_at__lt=now).delete()[0],
        "idempotency": IdempotencyRecord.objects.filter(
            created_at__lt=now - IDEMPOTENCY_RETENTION
        ).delete()[0],
    }
    if reschedule:
        transaction.on_commit(
            lambda: purge_expired.using(run_after=timezone.now() + PURGE_EVERY).enqueue()
        )
    return counts


def _periodic():
    from yuyue.billing.tasks import expire_points_job, mark_no_shows_job, reconcile_job
    from yuyue.calls.tasks import sweep_calls_job
    from yuyue.dispatch.tasks import dispatch_round_job, purge_positions_job
    from yuyue.orders.tasks import send_reminders_job

    return [
        purge_expired,
        dispatch_round_job,
        purge_positions_job,
        sweep_calls_job,
        expire_points_job,
        reconcile_job,
        mark_no_shows_job,
        send_reminders_job,
    ]


def ensure_periodic_jobs() -> list[str]:
    """Enqueue each periodic job that has no run waiting. Returns the names enqueued."""
    from django_tasks_db.models import DBTaskResult

    enqueued = []
    for job in _periodic():
        path = f"{job.func.__module__}.{job.func.__qualname__}"
        waiting = DBTaskResult.objects.filter(task_path=path, status__in=["READY", "RUNNING"])
        if not waiting.exists():
            job.enqueue()
            enqueued.append(path)
    return enqueued
