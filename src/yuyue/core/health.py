"""Readiness checks of the job queue and the workers (django-health-check's `HealthCheck`s),
beside the library's database, cache and Redis checks (`yuyue.api.probes.Readiness`).

A `ServiceUnavailable` makes the platform not ready (503): no worker alive means no payment is
confirmed and no order dispatched. A `ServiceWarning` is reported with 200: one dead worker while
others work, or jobs waiting longer than YUYUE_JOB_LATE_SECONDS (the workers cannot keep up)."""

from __future__ import annotations

import dataclasses
import datetime as dt

from django.conf import settings
from django.db import connection
from django.db.models import Case, Count, Min, When
from django.utils import timezone
from health_check.base import HealthCheck
from health_check.exceptions import ServiceUnavailable, ServiceWarning

from .models import WorkerBeat
from .workers import dead_before

FORGET_AFTER = dt.timedelta(days=1)  # a worker dead this long is no longer reported


def closing(run):
    """Checks run in an executor thread: give its database connection back when done."""

    def wrapped(self):
        try:
            return run(self)
        finally:
            connection.close()

    return wrapped


def workers(now: dt.datetime | None = None) -> tuple[list[WorkerBeat], list[WorkerBeat]]:
    """(alive, dead) among the workers that beat in the last day."""
    now = now or timezone.now()
    line = dead_before(now)
    beats = list(WorkerBeat.objects.filter(beat_at__gte=now - FORGET_AFTER).order_by("worker_id"))
    return [b for b in beats if b.beat_at >= line], [b for b in beats if b.beat_at < line]


def due_jobs(now: dt.datetime | None = None) -> tuple[int, float]:
    """How many jobs are due and not started, and how long the oldest of them has waited (s)."""
    from django_tasks_db.models import DBTaskResult, get_date_max

    now = now or timezone.now()
    # a job to run at once has run_after = the library's "date max"; its due time is its enqueuing
    due_at = Case(When(run_after=get_date_max(), then="enqueued_at"), default="run_after")
    row = DBTaskResult.objects.ready().aggregate(n=Count("id"), oldest=Min(due_at))
    oldest = row["oldest"]
    waited = max(0.0, (now - oldest).total_seconds()) if oldest else 0.0
    return row["n"], waited


@dataclasses.dataclass
class Workers(HealthCheck):
    """At least one job worker beat in the last YUYUE_WORKER_DEAD_SECONDS; dead ones named."""

    @closing
    def run(self):
        now = timezone.now()
        alive, dead = workers(now)
        silent = ", ".join(
            f"{b.worker_id} (pid {b.pid}, silent {(now - b.beat_at).total_seconds():.0f} s)"
            for b in dead
        )
        if not alive:
            raise ServiceUnavailable(
                "no job worker alive" + (f"; dead: {silent}" if silent else "")
            )
        if dead:
            raise ServiceWarning(f"{len(alive)} alive; dead: {silent}")

    def __repr__(self):
        return "Workers"


@dataclasses.dataclass
class JobQueue(HealthCheck):
    """Jobs due and not started, and how long the oldest has waited."""

    @closing
    def run(self):
        count, waited = due_jobs()
        if waited > settings.YUYUE_JOB_LATE_SECONDS:
            raise ServiceWarning(
                f"{count} jobs due; the oldest has waited {waited:.0f} s "
                f"(more than {settings.YUYUE_JOB_LATE_SECONDS:.0f} s)"
            )

    def __repr__(self):
        return "JobQueue"
