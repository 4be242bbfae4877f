"""Periodic jobs: one registry instead of a self-rescheduling block in every `tasks.py`.

django-tasks has no cron. A periodic job is an ordinary task that enqueues its own next run when it
finishes (on commit, so a run that fails leaves the row that retries it, and a run that succeeds
leaves exactly one successor). `ensure_periodic_jobs` (run by `make run` and on deploy) enqueues
the first run of each registered job that has none waiting.

    @periodic(every="YUYUE_CALL_SWEEP_SECONDS")      # a setting, in seconds (read at each run)
    def sweep_calls_job() -> int: ...

    @periodic(every=dt.timedelta(hours=1))
    def expire_points_job() -> int: ...

    @periodic(next_run=two_tomorrow)                 # a function of now: the next run's time
    def reconcile_job() -> dict: ...

The decorated name is a django-tasks `Task` whose function takes `reschedule: bool = True`
(tests and one-off runs pass `reschedule=False`).
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules
from django_tasks import task

_REGISTRY: dict[str, Any] = {}


def _interval(every: dt.timedelta | str) -> dt.timedelta:
    if isinstance(every, str):
        return dt.timedelta(seconds=getattr(settings, every))
    return every


def periodic(
    *,
    every: dt.timedelta | str | None = None,
    next_run: Callable[[dt.datetime], dt.datetime] | None = None,
):
    """Register `func` as a periodic job that runs again `every` (a timedelta, or the name of a
    setting in seconds) after it finishes, or at `next_run(now)`."""
    if (every is None) == (next_run is None):
        raise TypeError("periodic() takes exactly one of every= or next_run=")

    def register(func: Callable[[], Any]):
        def run(reschedule: bool = True) -> Any:
            result = func()
            if reschedule:
                at = next_run(timezone.now()) if next_run else timezone.now() + _interval(every)
                transaction.on_commit(lambda: job.using(run_after=at).enqueue())
            return result

        functools.update_wrapper(run, func)  # the task's path is the decorated function's
        job = task()(run)
        _REGISTRY[job.module_path] = job
        return job

    return register


def periodic_jobs() -> list:
    """Every registered periodic job (each installed app's `tasks` module is imported first)."""
    autodiscover_modules("tasks")
    return list(_REGISTRY.values())


def ensure_periodic_jobs() -> list[str]:
    """Enqueue each periodic job that has no run waiting. Returns the paths enqueued."""
    from django_tasks_db.models import DBTaskResult

    enqueued = []
    for job in periodic_jobs():
        waiting = DBTaskResult.objects.filter(
            task_path=job.module_path, status__in=["READY", "RUNNING"]
        )
        if not waiting.exists():
            job.enqueue()
            enqueued.append(job.module_path)
    return enqueued
