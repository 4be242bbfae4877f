"""Real servers and real concurrent clients for the concurrency tests and the benchmarks.

`LiveServer` starts gunicorn (several worker processes, each with a thread pool) on a free
loopback port against a given database, waits until `/api/health` answers, and stops it cleanly.
`storm` fires many requests at once: one thread and one HTTP client per request, all released
together by a barrier, bounded in count and in time.

The test process and the servers must share one database, so the tests that use them are
`@pytest.mark.django_db(transaction=True)`: rows they create are committed and visible to the
servers. `current_database_url()` gives the URL of the database pytest-django set up.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

PROJECT_DIR = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
MAX_STORM = 1000  # more simultaneous clients than this is a load test, not a race test
# One TLS context for every client: building one per client costs ~20 ms (we only speak http).
_TLS = ssl.create_default_context()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url(settings_dict: dict) -> str:
    """A DATABASE_URL for the database described by a Django `settings_dict`."""
    engine = settings_dict["ENGINE"].replace("django_prometheus.db.", "django.db.")
    if engine == "django.db.backends.sqlite3":
        name = str(settings_dict["NAME"])
        if name == ":memory:" or name.startswith("file:"):
            raise RuntimeError("server processes need a file database, not an in-memory one")
        return "sqlite:///" + str(Path(name).resolve())
    if engine == "django.db.backends.postgresql":
        user = quote(settings_dict.get("USER") or "", safe="")
        password = settings_dict.get("PASSWORD") or ""
        auth = f"{user}:{quote(password, safe='')}@" if password else (f"{user}@" if user else "")
        host = settings_dict.get("HOST") or "127.0.0.1"
        port = settings_dict.get("PORT") or 5432
        return f"postgres://{auth}{host}:{port}/{quote(settings_dict['NAME'], safe='')}"
    raise RuntimeError(f"no server support for {engine}")


def current_database_url(alias: str = "default") -> str:
    """The URL of the test database pytest-django has set up (call after `django_db_setup`)."""
    from django.db import connections

    return database_url(connections[alias].settings_dict)


class ServerFailed(RuntimeError):
    pass


@dataclass
class LiveServer:
    """gunicorn serving yuyue on a free loopback port. Use as a context manager or start/stop."""

    database_url: str
    workers: int = 2
    threads: int = 16
    unguarded: bool = False
    asgi: bool = False  # uvicorn, one process: HTTP and websockets (calls, live tracking)
    asgi_workers: int = 1  # more than one needs REDIS_URL (the channel layer across processes)
    settings_module: str = "yuyue.test_settings"
    env: dict[str, str] = field(default_factory=dict)
    startup_timeout: float = 60.0
    host: str = "127.0.0.1"
    port: int = 0
    _proc: subprocess.Popen | None = field(default=None, init=False, repr=False)
    _log: Any = field(default=None, init=False, repr=False)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The server's main process (gunicorn's arbiter or uvicorn), while it runs."""
        return self._proc.pid if self._proc is not None else None

    def _environment(self) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": self.settings_module,
                "DATABASE_URL": self.database_url,
                # Each thread may hold a pooled connection; never make a thread wait for one.
                "DB_POOL_MAX": str(max(self.threads + 4, int(env.get("DB_POOL_MAX", "0") or 0))),
                "PYTHONUNBUFFERED": "1",
                "DEBUG": "0",
            }
        )
        env.setdefault("LOG_LEVEL", "WARNING")
        if self.unguarded:  # the control: naive writes from the test suite (yuyue.core.controls)
            env["YUYUE_RACE_CONTROLS"] = "tests.concurrency.unguarded"
        else:
            env.pop("YUYUE_RACE_CONTROLS", None)
        paths = (str(PROJECT_DIR / "src"), str(PROJECT_DIR), env.get("PYTHONPATH", ""))
        env["PYTHONPATH"] = os.pathsep.join(p for p in paths if p)
        env.update(self.env)
        return env

    def start(self) -> LiveServer:
        if self._proc is not None:
            return self
        last_error = ""
        for _ in range(3):  # a free port can be taken between probing and binding: retry
            self.port = free_port()
            self._log = tempfile.NamedTemporaryFile(  # noqa: SIM115 (closed in stop())
                prefix=f"gunicorn-{self.port}-", suffix=".log", delete=False
            )
            cmd = (
                self._asgi_command()
                if self.asgi
                else [
                    str(VENV_BIN / "gunicorn"),
                    "yuyue.wsgi:application",
                    "-w",
                    str(self.workers),
                    "-k",
                    "gthread",
                    "--threads",
                    str(self.threads),
                    "-b",
                    f"{self.host}:{self.port}",
                    "--timeout",
                    "120",
                    "--graceful-timeout",
                    "10",
                    "--backlog",
                    "2048",
                    "--chdir",
                    str(PROJECT_DIR),
                ]
            )
            self._proc = subprocess.Popen(
                cmd,
                env=self._environment(),
                stdout=self._log,
                stderr=subprocess.STDOUT,
                cwd=PROJECT_DIR,
                start_new_session=True,
            )
            try:
                self._wait_ready()
                return self
            except ServerFailed as exc:
                last_error = str(exc)
                self.stop()
                if "Address already in use" not in last_error:
                    break
        raise ServerFailed(last_error)

    def _asgi_command(self) -> list[str]:
        return [
            str(VENV_BIN / "uvicorn"),
            "yuyue.asgi:application",
            "--host",
            self.host,
            "--port",
            str(self.port),
            "--log-level",
            "warning",
            *(["--workers", str(self.asgi_workers)] if self.asgi_workers > 1 else []),
        ]

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise ServerFailed(
                    f"gunicorn exited with {self._proc.returncode}:\n{self.output()}"
                )
            try:
                r = httpx.get(f"{self.url}/api/health", timeout=2.0)
                if r.status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise ServerFailed(
            f"gunicorn not ready after {self.startup_timeout:.0f} s:\n{self.output()}"
        )

    def output(self, tail: int = 20_000) -> str:
        """What the server wrote to stdout/stderr (the tail of it): tracebacks of 500s land here."""
        if self._log is None:
            return ""
        try:
            return Path(self._log.name).read_text(errors="replace")[-tail:]
        except OSError:
            return ""

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)  # gunicorn: graceful stop of master and workers
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)  # its own session: master and workers
                proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            with contextlib.suppress(OSError):
                os.unlink(self._log.name)
            self._log = None

    def __enter__(self) -> LiveServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def start_worker(
    database_url: str, worker_id: str, env: dict[str, str] | None = None, log=None
) -> subprocess.Popen:
    """`manage.py db_worker` (yuyue.core.workers) on the given database, as its own process."""
    full = dict(os.environ)
    paths = (str(PROJECT_DIR / "src"), str(PROJECT_DIR), full.get("PYTHONPATH", ""))
    full.update(
        {
            "DJANGO_SETTINGS_MODULE": "yuyue.test_settings",
            "DATABASE_URL": database_url,
            "PYTHONPATH": os.pathsep.join(p for p in paths if p),
            "PYTHONUNBUFFERED": "1",
            "DEBUG": "0",
        }
    )
    full.update(env or {})
    return subprocess.Popen(
        [sys.executable, "-m", "django", "db_worker", "--queue-name", "*", "--interval", "0.2"]
        + ["--no-startup-delay", "--worker-id", worker_id],
        env=full,
        cwd=PROJECT_DIR,
        stdout=log or subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


# --- concurrent clients ------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    json: Any = None
    headers: dict[str, str] = field(default_factory=dict)  # names in lower case
    content: bytes | None = None  # a raw body (e.g. a signed notification), instead of json


@dataclass
class Reply:
    status: int  # 0: no HTTP answer (the error is in `text`)
    text: str
    elapsed: float
    headers: dict[str, str] = field(default_factory=dict)  # names in lower case

    @property
    def body(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError:
            return None

    @property
    def code(self) -> str | None:
        """The problem code of a refusal (a success's "code" is a check-in code: not this)."""
        if self.status < 400:
            return None
        body = self.body
        return body.get("code") if isinstance(body, dict) else None


def bearer(key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", "Accept-Language": "en", **extra}


def storm(base_url: str, calls: Sequence[Call], *, timeout: float = 60.0) -> list[Reply]:
    """Send all `calls` at the same moment, one thread and one client each; replies in order.

    Every thread builds its client first, then waits at a barrier; when the last one arrives all
    requests leave together. The whole storm is bounded by `timeout` (plus thread start-up).
    """
    if not 1 <= len(calls) <= MAX_STORM:
        raise ValueError(f"between 1 and {MAX_STORM} calls")
    barrier = threading.Barrier(len(calls))
    replies: list[Reply | None] = [None] * len(calls)

    def run(i: int, call: Call) -> None:
        started = time.perf_counter()
        try:
            with httpx.Client(base_url=base_url, timeout=timeout, verify=_TLS) as client:
                barrier.wait(timeout=timeout)
                started = time.perf_counter()
                if call.content is not None:
                    r = client.request(
                        call.method, call.path, content=call.content, headers=call.headers
                    )
                else:
                    r = client.request(call.method, call.path, json=call.json, headers=call.headers)
                replies[i] = Reply(
                    r.status_code, r.text, time.perf_counter() - started, dict(r.headers)
                )
        except Exception as exc:  # noqa: BLE001 (reported as a failed call)
            replies[i] = Reply(0, f"{type(exc).__name__}: {exc}", time.perf_counter() - started)

    threads = [threading.Thread(target=run, args=(i, c), daemon=True) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + timeout + 30
    for t in threads:
        t.join(max(0.0, deadline - time.monotonic()))
    return [
        r if r is not None else Reply(0, "no reply within the time limit", timeout) for r in replies
    ]


def summarize(replies: Sequence[Reply]) -> dict[tuple[int, str | None], int]:
    """{(status, code): count}, for assertion messages."""
    out: dict[tuple[int, str | None], int] = {}
    for r in replies:
        key = (r.status, r.code)
        out[key] = out.get(key, 0) + 1
    return dict(sorted(out.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")))
