"""The worker's safety net for calls nobody is connected to: silent sides, limits, no-shows."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task


@task()
def sweep_calls_job(reschedule: bool = True) -> int:
    from . import services

    updates = services.sweep()
    if reschedule:
        every = dt.timedelta(seconds=settings.YUYUE_CALL_SWEEP_SECONDS)
        transaction.on_commit(
            lambda: sweep_calls_job.using(run_after=timezone.now() + every).enqueue()
        )
    return len(updates)
