"""The background-job backend: django-tasks-db's, with the job row written by one statement.

django-tasks-db inserts each job with `DBTaskResult.objects.create`, an ORM query compiled anew
for every job. A hall booking enqueues its reminder on commit, and that compilation was about a
third of the booking's own work. This backend writes the very same row with `yuyue.core.sql`
(built once); everything else (the worker, results, priorities, `run_after`) is the library's.
`tests/core/test_jobqueue.py` checks the row against the one the library itself writes, so an
upgrade that adds a field cannot slip by (the dependency is pinned to 0.13.x).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import connection, transaction
from django_tasks.signals import task_enqueued
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

    def job_rows(self, tasks: Sequence[tuple[object, tuple]]) -> list:
        """The rows, not yet written, of several (task, args); written with `JOB_FIELDS`.

        Each kind of task is validated once per process (what `validate_task` looks at is fixed
        by the function, its priority and whether it is deferred)."""
        for task, _ in tasks:
            kind = (task.func, task.priority, task.takes_context, task.run_after is not None)
            if kind not in _validated:
                self.validate_task(task)
                _validated.add(kind)
        return [self._row(task, args, {}) for task, args in tasks]

    def announce(self, rows: Sequence) -> None:
        """`task_enqueued` for written rows, sent only when it would do something: its one
        default receiver writes a DEBUG line."""
        if len(task_enqueued.receivers) > 1 or _library_log.isEnabledFor(logging.DEBUG):
            for row in rows:
                task_enqueued.send(type(self), task_result=row.task_result)


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
_validated: set[tuple] = set()
_library_log = logging.getLogger("django_tasks")


def enqueue_with_transaction(jobs: Sequence[Job]) -> None:
    """Enqueue `jobs` as part of the current transaction.

    With the database backend the job rows are written now, in one statement, so they commit
    or roll back with the writes that called for them (a booking never loses its reminder to a
    crash between its commit and an on-commit hook, and costs one statement, not a transaction
    of its own). The worker cannot see them before the commit. Other backends (the immediate
    one for development) enqueue on commit, as before.
    """
    pending = prepare(jobs)
    if pending is not None:
        sql.insert_many(pending.rows, vary=JOB_FIELDS)
        pending.announce()


@dataclass
class PreparedJobs:
    """Job rows to insert with the transaction's other rows (`sql.insert_together`), then
    `announce`d: how a writer folds its jobs into a statement it sends anyway."""

    backend: DatabaseBackend
    rows: list

    def group(self) -> tuple[list, frozenset[str]]:
        return self.rows, JOB_FIELDS

    def announce(self) -> None:
        self.backend.announce(self.rows)


def prepare(jobs: Sequence[Job]) -> PreparedJobs | None:
    """The rows of `jobs` for the database backend inside a transaction; with any other backend,
    or outside a transaction, they are enqueued on commit instead and None is returned."""
    pending = rows_in_transaction(jobs)
    if pending is None:
        for task, args in _tasks(jobs):
            transaction.on_commit(lambda task=task, args=args: task.enqueue(*args))
    return pending


def rows_in_transaction(jobs: Sequence[Job]) -> PreparedJobs | None:
    """The rows of `jobs` when they can be written with the current transaction's statements
    (the database backend, inside a transaction), else None; nothing is enqueued either way."""
    return rows_for_statement(jobs) if connection.in_atomic_block else None


def rows_for_statement(jobs: Sequence[Job]) -> PreparedJobs | None:
    """The rows of `jobs` for the database backend, to be written by a statement that commits
    them with its other writes (inside a transaction, or one statement on its own), else None
    (another backend); nothing is enqueued either way."""
    tasks = _tasks(jobs)
    backend = _row_backend(tasks) if tasks else None
    return PreparedJobs(backend, backend.job_rows(tasks)) if backend is not None else None


def _tasks(jobs: Sequence[Job]) -> list[tuple[object, tuple]]:
    return [(task.using(run_after=at) if at else task, args) for task, at, args in jobs]


def _row_backend(tasks) -> DatabaseBackend | None:
    backends = {task.get_backend() for task, _ in tasks}
    backend = backends.pop() if len(backends) == 1 else None
    return backend if isinstance(backend, DatabaseBackend) else None
