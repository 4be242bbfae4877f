"""Serve the platform and run the background job worker together until Ctrl-C or SIGTERM.

Two child processes: the job worker (`db_worker`, django-tasks-db) and the web server (uvicorn on
`yuyue.asgi:application`, so HTTP and websockets share one port); without Redis (REDIS_URL), one:
the worker runs as a thread of the web server, so that jobs' websocket pushes reach the pages
(`core/embedded_worker.py`). The command waits until the web
server answers, prints where everything is, and stops both children when it is told to stop or
when either of them dies (so a half-running platform never goes unnoticed).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from .load_demo import PASSWORD, PEOPLE, PROVIDER_PHONES

STOP_GRACE_SECONDS = 10
STARTUP_TIMEOUT_SECONDS = 60


def port_is_free(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return False
    return True


def answers(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


class Command(BaseCommand):
    help = (
        "Start the web server (uvicorn: HTTP and websockets) and the job worker together. "
        "HOST and PORT from the environment (default 127.0.0.1:8000)."
    )

    def handle(self, *args, **options):
        host = os.environ.get("HOST", "127.0.0.1")
        try:
            port = int(os.environ.get("PORT", "8000"))
        except ValueError as exc:
            raise CommandError(f"PORT must be a number, not {os.environ['PORT']!r}") from exc
        if not port_is_free(host, port):
            raise CommandError(
                f"{host}:{port} is already in use: stop what runs there, or start on another "
                f"port, e.g. PORT={port + 1} make run"
            )

        # The children inherit DJANGO_SETTINGS_MODULE (and DATABASE_URL etc.) from this process;
        # `-m django` does not depend on the current directory.
        python = sys.executable
        self.children: dict[str, subprocess.Popen] = {}
        self.stopping = False
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        # Without Redis the channel layer is per process: the worker then runs inside the web
        # process, so that what jobs push reaches the pages' sockets (core/embedded_worker.py).
        embedded = not settings.REDIS_URL
        if not embedded:
            self.children["worker"] = subprocess.Popen(
                [python, "-m", "django", "db_worker", "--queue-name", "*"]
            )
        self.children["web"] = subprocess.Popen(
            [
                python,
                "-m",
                "uvicorn",
                "yuyue.asgi:application",
                "--host",
                host,
                "--port",
                str(port),
                "--log-level",
                os.environ.get("UVICORN_LOG_LEVEL", "warning"),
            ],
            env={**os.environ, "YUYUE_EMBEDDED_WORKER": "1" if embedded else "0"},
        )

        shown_host = f"[{host}]" if ":" in host else host
        base = f"http://{shown_host}:{port}"
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while not answers(host, port):
            if self.stopping:
                self._stop()
                return
            if self._dead_child() or time.monotonic() > deadline:
                self._stop()
                raise CommandError("the web server did not start; see its messages above")
            time.sleep(0.2)

        logins = "\n".join(f"    {phone}  {name}" for phone, name in PEOPLE.values())
        self.stdout.write(
            f"\nyuyue is running on {base}/\n"
            f"  API docs     {base}/api/docs   (OpenAPI: {base}/api/openapi.json)\n"
            f"  admin        {base}/admin/\n"
            f"  job worker   running ({'in the web process' if embedded else 'db_worker'})\n"
            f"  demo logins, all with password {PASSWORD}:\n{logins}\n"
            f"    {PROVIDER_PHONES[0]} … {PROVIDER_PHONES[-1]}  providers (cleaners)\n"
            "Ctrl-C stops it all.\n"
        )
        self.stdout.flush()

        while not self.stopping:
            dead = self._dead_child()
            if dead and not self.stopping:
                name, code = dead
                self.stderr.write(f"the {name} stopped (exit code {code}); stopping the platform")
                self._stop()
                sys.exit(1)
            time.sleep(0.5)
        self._stop()
        self.stdout.write("yuyue stopped.")

    def _on_signal(self, signum, frame):
        # Only note it here: the main loop stops the children. A terminal's Ctrl-C reaches the
        # children too (same process group); a SIGTERM sent to this process alone is forwarded.
        self.stopping = True
        for proc in self.children.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM if signum == signal.SIGTERM else signal.SIGINT)

    def _dead_child(self) -> tuple[str, int] | None:
        for name, proc in self.children.items():
            code = proc.poll()
            if code is not None:
                return name, code
        return None

    def _stop(self) -> None:
        for proc in self.children.values():
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for proc in self.children.values():
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
