"""`manage.py db_worker`: django-tasks-db's worker command, running `yuyue.core.workers.Worker`
(heartbeats, the jobs of dead workers run again). Same options as the library's; the worker's
id defaults to YUYUE_WORKER_ID, else `<host>-<pid>`."""

from __future__ import annotations

import os

from django.core.management.base import CommandError
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.management.commands import db_worker

from yuyue.core.workers import Worker, default_worker_id


class Command(db_worker.Command):
    help = "Run a job worker that beats (readiness sees it) and runs dead workers' jobs again"

    def add_arguments(self, parser) -> None:
        super().add_arguments(parser)
        parser.set_defaults(worker_id=None)

    def handle(self, *, verbosity, queue_name, exclude_queues, reload, batch, **options) -> None:
        self.configure_logging(verbosity)
        queues = queue_name.split(",")
        excluded = exclude_queues.split(",") if exclude_queues else []
        if excluded and "*" not in queues:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = Worker(
            queue_names=queues,
            interval=options["interval"],
            batch=batch,
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"] or default_worker_id(),
            excluded_queue_names=excluded,
        )
        if reload and not batch:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
