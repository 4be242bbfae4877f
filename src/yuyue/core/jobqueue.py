"""The background-job backend: django-tasks-db's, with the job row written by one statement.

django-tasks-db inserts each job with `DBTaskResult.objects.create`, an ORM query compiled anew
for every job (once about a third of a hall booking's own work, when bookings still enqueued
jobs). This backend writes the very same row with `yuyue.core.sql` (built once); everything
else (the worker, results, priorities, `run_after`) is the library's.
`tests/core/test_jobqueue.py` checks the row against the one the library itself writes, so an
upgrade that adds a field cannot slip by (the dependency is pinned to 0.13.x).
"""

from __future__ import annotations

import datetime as dt

from django_tasks_db.backend import DatabaseBackend as LibraryBackend
from django_tasks_db.compat import normalize_json

from . import sql

# (task, run_after or None, args): one job to enqueue
Job = tuple[object, dt.datetime | None, tuple]


class DatabaseBackend(LibraryBackend):
    def _row(self, task, args, kwargs):
        from django_tasks_db.models import DBTaskResult

        return DBTaskResult(
            id=self._get_id(),
            args_kwargs=normalize_json({"args": args, "kwargs": kwargs}),
            priority=task.priority,
            task_path=task.module_path,
            queue_name=task.queue_name,
            run_after=task.run_after,
            backend_name=self.alias,
        )

    def _task_to_db_task(self, task, args, kwargs):
        return sql.insert_many([self._row(task, args, kwargs)], vary=JOB_FIELDS)[0]


# The job row's columns that differ between jobs; the others are written as their defaults.
JOB_FIELDS = frozenset(
    (
        "id",
        "enqueued_at",
        "args_kwargs",
        "priority",
        "task_path",
        "queue_name",
        "backend_name",
        "run_after",
    )
)
