"""The background-job backend: django-tasks-db's, with the job row written by one statement.

django-tasks-db inserts each job with `DBTaskResult.objects.create`, an ORM query compiled anew
for every job. A hall booking enqueues its reminder on commit, and that compilation was about a
third of the booking's own work. This backend writes the very same row with `yuyue.core.sql`
(built once); everything else (the worker, results, priorities, `run_after`) is the library's.
`tests/core/test_jobqueue.py` checks the row against the one the library itself writes, so an
upgrade that adds a field cannot slip by (the dependency is pinned to 0.13.x).
"""

from __future__ import annotations

from django_tasks_db.backend import DatabaseBackend as LibraryBackend
from django_tasks_db.compat import normalize_json

from . import sql


class DatabaseBackend(LibraryBackend):
    def _task_to_db_task(self, task, args, kwargs):
        from django_tasks_db.models import DBTaskResult

        return sql.insert(
            DBTaskResult(
                id=self._get_id(),
                args_kwargs=normalize_json({"args": args, "kwargs": kwargs}),
                priority=task.priority,
                task_path=task.module_path,
                queue_name=task.queue_name,
                run_after=task.run_after,
                backend_name=self.alias,
            )
        )
