"""A job for the worker tests: it says it started (committed at once), waits, says it is done."""

import time

from django_tasks import task

from yuyue.core.models import AuditLog


@task()
def marked_wait(name: str, seconds: float) -> str:
    AuditLog.objects.create(action="test.job_started", target_id=name)
    time.sleep(seconds)
    AuditLog.objects.create(action="test.job_done", target_id=name)
    return name
