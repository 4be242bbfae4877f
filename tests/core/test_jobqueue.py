"""Our job backend writes exactly the row django-tasks-db itself would, with one statement."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_tasks import task_backends
from django_tasks_db.backend import DatabaseBackend as LibraryBackend
from django_tasks_db.models import DBTaskResult

from yuyue.core.jobqueue import DatabaseBackend
from yuyue.core.tasks import purge_expired


@pytest.mark.django_db
@pytest.mark.parametrize("run_after", [None, "later"])
def test_enqueued_rows_equal_the_librarys_own(run_after):
    backend = task_backends["default"]
    assert isinstance(backend, DatabaseBackend)
    when = timezone.now().replace(microsecond=0) + dt.timedelta(hours=2) if run_after else None
    job = purge_expired.using(run_after=when, priority=7, queue_name="default")

    with CaptureQueriesContext(connection) as queries:
        ours = job.enqueue(reschedule=False)
    assert len(queries) == 1
    theirs = LibraryBackend._task_to_db_task(backend, job, (), {"reschedule": False})

    ours_row, theirs_row = (DBTaskResult.objects.get(pk=r) for r in (ours.id, theirs.pk))
    assert ours_row.pk != theirs_row.pk
    for field in DBTaskResult._meta.concrete_fields:
        if field.name in ("id", "enqueued_at"):
            continue
        assert getattr(ours_row, field.attname) == getattr(theirs_row, field.attname), field.name
    assert abs(ours_row.enqueued_at - theirs_row.enqueued_at) < dt.timedelta(seconds=5)
    assert ours.status == "READY" and ours.args == [] and ours.kwargs == {"reschedule": False}
    assert DBTaskResult.objects.ready().filter(pk=ours_row.pk).exists() == (when is None)
