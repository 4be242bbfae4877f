"""The job worker: django-tasks-db's, with a heartbeat, and the jobs of dead workers run again.

django-tasks-db claims a job (status RUNNING, the worker's id appended to `worker_ids`) and
runs it; a worker killed meanwhile (SIGKILL, a lost machine) would leave it RUNNING for ever.
Here every worker writes a `WorkerBeat` row every YUYUE_WORKER_BEAT_SECONDS from a thread of
its own (so a long job does not make it look dead), and removes it when it stops cleanly. Each
beat also looks for jobs RUNNING for longer than YUYUE_WORKER_DEAD_SECONDS whose worker has not
beaten for that long, and puts them back READY (one conditional UPDATE each: of two workers that
find it, one does): the job is lost by nobody and run again once.

A job so run again must change nothing its first run committed. Ours are written that way: each
checks the state it moves (an offer expires only from pending, a payment's notice confirms it
once, a delivery is claimed by one sender, a sweep finds only what is still due); a job that
reaches another system asks it with the same key again (a refund's out_refund_no).

`manage.py db_worker` is this worker (`yuyue.core` comes before `django_tasks_db` in
INSTALLED_APPS, so its command wins), with the library's options.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone
from django_tasks_db.management.commands.db_worker import Worker as LibraryWorker
from django_tasks_db.models import DBTaskResult, get_date_max

from .metrics import counter, histogram
from .models import WorkerBeat

logger = logging.getLogger(__name__)

JOBS = counter("yuyue_jobs_total", "Jobs run, by task and outcome", ["task", "outcome"])
JOB_LATENESS = histogram(
    "yuyue_job_start_delay_seconds", "From when a job was due to when a worker started it"
)
JOBS_LATE = counter(
    "yuyue_jobs_late_total", "Jobs started more than YUYUE_JOB_LATE_SECONDS after due", ["task"]
)
JOBS_REQUEUED = counter(
    "yuyue_jobs_requeued_total", "Jobs of dead workers put back to be run again", ["task"]
)


def dead_before(now: dt.datetime | None = None) -> dt.datetime:
    return (now or timezone.now()) - dt.timedelta(seconds=settings.YUYUE_WORKER_DEAD_SECONDS)


def requeue_orphans(now: dt.datetime | None = None) -> list[str]:
    """Jobs RUNNING since before the dead line whose worker has not beaten since: READY again.
    Returns their ids."""
    line = dead_before(now)
    # worker id -> when the process beating under it started: a worker restarted under its id
    # (systemd, at once) beats again, but the job its previous process held is orphaned all the same
    alive = dict(
        WorkerBeat.objects.filter(beat_at__gte=line).values_list("worker_id", "started_at")
    )
    requeued = []
    running = DBTaskResult.objects.filter(status="RUNNING", started_at__lt=line)
    for job in running.only("id", "worker_ids", "started_at", "task_path"):
        owner = job.worker_ids[-1] if job.worker_ids else None
        if owner in alive and job.started_at >= alive[owner]:
            continue
        taken = DBTaskResult.objects.filter(
            pk=job.pk, status="RUNNING", started_at=job.started_at
        ).update(status="READY", started_at=None)
        if taken:
            requeued.append(str(job.pk))
            JOBS_REQUEUED.labels(task=job.task_path).inc()
            logger.warning(
                "job %s (%s) of dead worker %s is run again",
                job.pk,
                job.task_path,
                job.worker_ids[-1] if job.worker_ids else "?",
            )
    return requeued


class Worker(LibraryWorker):
    """The library's worker loop, beating and recovering (see the module's docstring)."""

    def run(self) -> None:
        self._job_id = ""
        self._jobs_run = 0
        self._started_at = timezone.now()
        self._stop = threading.Event()
        beats = None
        if self.batch:  # a one-off run (tests, scripts): one beat, in this thread
            self.beat()
        else:
            beats = threading.Thread(target=self._beat_loop, name="yuyue-beat", daemon=True)
            beats.start()
        try:
            super().run()
        finally:
            self._stop.set()
            if beats is not None:
                beats.join(timeout=settings.YUYUE_WORKER_BEAT_SECONDS + 5)
            close_old_connections()
            WorkerBeat.objects.filter(worker_id=self.worker_id).delete()  # stopped, not dead

    def run_task(self, db_task_result: DBTaskResult) -> None:
        self._job_id = str(db_task_result.pk)
        started = db_task_result.started_at or timezone.now()
        due = db_task_result.enqueued_at  # run_after is the library's "date max" for at once
        if db_task_result.run_after and db_task_result.run_after < get_date_max():
            due = max(due, db_task_result.run_after)
        delay = max(0.0, (started - due).total_seconds())
        task_path = db_task_result.task_path
        JOB_LATENESS.observe(delay)
        if delay > settings.YUYUE_JOB_LATE_SECONDS:
            JOBS_LATE.labels(task=task_path).inc()
        try:
            super().run_task(db_task_result)
        finally:
            self._job_id = ""
            self._jobs_run += 1
            outcome = "succeeded" if db_task_result.status == "SUCCESSFUL" else "failed"
            JOBS.labels(task=task_path, outcome=outcome).inc()

    def beat(self) -> None:
        WorkerBeat.objects.update_or_create(
            worker_id=self.worker_id,
            defaults={
                "host": socket.gethostname()[:255],
                "pid": os.getpid(),
                "started_at": self._started_at,
                "beat_at": timezone.now(),
                "job_id": self._job_id,
                "jobs_run": self._jobs_run,
            },
        )
        requeue_orphans()

    def _beat_loop(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    close_old_connections()
                    self.beat()
                except Exception:  # the database away for a moment: beat again later
                    logger.exception("worker %s could not beat", self.worker_id)
                self._stop.wait(settings.YUYUE_WORKER_BEAT_SECONDS)
        finally:
            connection.close()


def new_worker(*, worker_id: str, batch: bool = False, interval: float = 1.0) -> Worker:
    return Worker(
        queue_names=["*"],
        interval=interval,
        batch=batch,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=worker_id,
        excluded_queue_names=[],
    )


def default_worker_id() -> str:
    """`<host>-<pid>`, unless YUYUE_WORKER_ID names it (a restarted worker then takes its own
    row back, and readiness stops reporting it dead)."""
    return (os.environ.get("YUYUE_WORKER_ID") or f"{socket.gethostname()}-{os.getpid()}")[:64]
