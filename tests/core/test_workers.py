"""The job worker's heartbeat, and a job of a killed worker run again once (yuyue.core.workers).

Real `manage.py db_worker` processes on the test database, killed with SIGKILL as an OOM killer
or a lost machine would."""

from __future__ import annotations

import os
import signal
import time

import pytest
from django.db import connections
from django_tasks_db.models import DBTaskResult

from tests.core.jobs import marked_wait
from tests.livesrv import current_database_url, start_worker
from yuyue.core.models import AuditLog, WorkerBeat

FAST = {"YUYUE_WORKER_BEAT_SECONDS": "0.3", "YUYUE_WORKER_DEAD_SECONDS": "1.5"}
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.live]


def wait_for(what, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        connections.close_all()  # read what the workers committed since
        value = what()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def stop(proc, sig=signal.SIGTERM) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, sig)
    proc.wait(20)


def test_a_worker_beats_while_it_runs_and_leaves_no_row_when_stopped(settings):
    worker = start_worker(current_database_url(), "beat-test", FAST)
    try:
        first = wait_for(lambda: WorkerBeat.objects.filter(worker_id="beat-test").first())
        assert first.pid == worker.pid and first.job_id == ""
        later = wait_for(
            lambda: WorkerBeat.objects.filter(
                worker_id="beat-test", beat_at__gt=first.beat_at
            ).first()
        )
        assert later.started_at == first.started_at
    finally:
        stop(worker)
    connections.close_all()
    assert not WorkerBeat.objects.filter(worker_id="beat-test").exists()  # stopped, not dead


def test_the_job_of_a_killed_worker_is_run_again_once_by_another(settings):
    url = current_database_url()
    job = marked_wait.enqueue("kill-me", 3.0)
    first = start_worker(url, "first", FAST)
    try:
        wait_for(lambda: AuditLog.objects.filter(action="test.job_started").exists())
        # its next beat says what it runs
        wait_for(lambda: WorkerBeat.objects.filter(worker_id="first", job_id=str(job.id)))
        stop(first, signal.SIGKILL)  # mid-job: no chance to say anything
        row = DBTaskResult.objects.get(pk=job.id)
        assert row.status == "RUNNING" and row.worker_ids == ["first"]
    finally:
        stop(first, signal.SIGKILL)
    second = start_worker(url, "second", FAST)
    try:
        done = wait_for(
            lambda: DBTaskResult.objects.filter(pk=job.id, status="SUCCESSFUL").first(), 40
        )
        assert done.worker_ids == ["first", "second"]
        assert AuditLog.objects.filter(action="test.job_started").count() == 2
        assert AuditLog.objects.filter(action="test.job_done").count() == 1
        # the dead worker's row stays (readiness reports it) until a worker of its id returns
        assert WorkerBeat.objects.filter(worker_id="first").exists()
    finally:
        stop(second)


def test_a_long_job_of_a_live_worker_is_not_taken_from_it(settings):
    url = current_database_url()
    job = marked_wait.enqueue("long", 4.0)  # longer than the dead line: the beats say it lives
    first = start_worker(url, "long-runner", FAST)
    second = start_worker(url, "bystander", FAST)
    try:
        done = wait_for(
            lambda: DBTaskResult.objects.filter(pk=job.id, status="SUCCESSFUL").first(), 40
        )
        assert len(done.worker_ids) == 1
        assert AuditLog.objects.filter(action="test.job_started").count() == 1
    finally:
        stop(first)
        stop(second)


def test_the_job_of_a_worker_restarted_under_its_id_is_run_again(settings):
    """systemd restarts a killed worker at once, under the same id: it beats again, but the job
    its previous process held is run again all the same."""
    url = current_database_url()
    job = marked_wait.enqueue("restarted", 2.0)
    first = start_worker(url, "steady", FAST)
    try:
        wait_for(lambda: AuditLog.objects.filter(action="test.job_started").exists())
        stop(first, signal.SIGKILL)
    finally:
        stop(first, signal.SIGKILL)
    again = start_worker(url, "steady", FAST)
    try:
        done = wait_for(
            lambda: DBTaskResult.objects.filter(pk=job.id, status="SUCCESSFUL").first(), 40
        )
        assert done.worker_ids == ["steady", "steady"]
        assert AuditLog.objects.filter(action="test.job_done").count() == 1
    finally:
        stop(again)
