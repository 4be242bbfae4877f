"""`run_platform` (the last step of `make run`): the web server answers, the job worker runs jobs,
and one SIGTERM to the command stops both children."""

from __future__ import annotations

import contextlib
import io
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from django.core.management import CommandError, call_command
from django_tasks_db.models import DBTaskResult

from tests.livesrv import current_database_url, free_port
from yuyue.catalog.models import Merchant, MerchantStatus
from yuyue.core.tasks import purge_expired


def children_of(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.mark.live
@pytest.mark.django_db(transaction=True)
def test_serves_runs_jobs_and_stops_on_sigterm(tmp_path):
    Merchant.objects.create(name="Demo Hall 演示", slug="demo", status=MerchantStatus.ACTIVE)
    port = free_port()
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="yuyue.test_settings",
        DATABASE_URL=current_database_url(),
        HOST="127.0.0.1",
        PORT=str(port),
        PYTHONUNBUFFERED="1",
        LOG_LEVEL="WARNING",
    )
    log = tmp_path / "run_platform.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "django", "run_platform"],
            env=env,
            cwd=tmp_path,  # it must not depend on being started from the project folder
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(lambda: "Ctrl-C stops" in log.read_text(), 60, f"the banner:\n{log.read_text()}")
        banner = log.read_text()
        assert f"http://127.0.0.1:{port}/api/docs" in banner, banner
        assert f"http://127.0.0.1:{port}/admin/" in banner
        assert "+8613800000001" in banner and "yuyue-demo-2026" in banner

        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=10)
        assert page.status_code == 200, log.read_text()
        assert "Demo Hall 演示" in page.text

        job = purge_expired.enqueue(reschedule=False)
        wait_for(
            lambda: DBTaskResult.objects.filter(pk=job.id, status="SUCCESSFUL").exists(),
            30,
            f"the worker to run a job:\n{log.read_text()}",
        )

        kids = children_of(proc.pid)
        # with Redis the worker runs apart; without, inside the web process (embedded_worker)
        assert len(kids) == (2 if os.environ.get("REDIS_URL") else 1), (kids, log.read_text())
        proc.send_signal(signal.SIGTERM)  # to the command alone, not its process group
        assert proc.wait(timeout=20) == 0, log.read_text()
        assert not [k for k in kids if alive(k)], log.read_text()
    finally:
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def test_a_busy_port_is_refused_with_advice(monkeypatch):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        monkeypatch.setenv("HOST", "127.0.0.1")
        monkeypatch.setenv("PORT", str(port))
        with pytest.raises(CommandError, match=f"PORT={port + 1} make run"):
            call_command("run_platform", stdout=io.StringIO())
