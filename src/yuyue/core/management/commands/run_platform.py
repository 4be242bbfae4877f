"""Serve the platform and run the background worker until Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand

from .load_demo import PASSWORD, PEOPLE


class Command(BaseCommand):
    help = "Start the web server (uvicorn, HTTP and websockets) and the job worker together."

    def handle(self, *args, **options):
        host = os.environ.get("HOST", "127.0.0.1")
        port = os.environ.get("PORT", "8000")
        python = sys.executable
        procs = [
            subprocess.Popen([python, "manage.py", "db_worker", "--queue-name", "*"]),
            subprocess.Popen(
                [
                    python,
                    "-m",
                    "uvicorn",
                    "yuyue.asgi:application",
                    "--host",
                    host,
                    "--port",
                    port,
                    "--log-level",
                    "warning",
                ]
            ),
        ]
        base = f"http://{host}:{port}"
        self.stdout.write(
            f"\nyuyue is running on {base}/\n  API docs  {base}/api/docs\n  admin     {base}/admin/"
            f"\n  demo password {PASSWORD}; logins: "
            + ", ".join(f"{k} {p}" for k, (p, _) in PEOPLE.items())
            + "\nCtrl-C stops.\n"
        )

        def stop(*_):
            for p in procs:
                if p.poll() is None:
                    p.terminate()
            deadline = time.time() + 10
            for p in procs:
                try:
                    p.wait(max(0.1, deadline - time.time()))
                except subprocess.TimeoutExpired:
                    p.kill()
            sys.exit(0)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        stop()
