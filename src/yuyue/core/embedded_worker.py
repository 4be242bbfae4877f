"""The job worker inside the web process, for the embedded default (`make run` without Redis).

Websocket pushes go through the channel layer; without Redis it is in memory, per process, so a
push made by a job in a separate worker process would reach nobody. With no REDIS_URL,
`run_platform` therefore runs the worker as a thread of the web process (YUYUE_EMBEDDED_WORKER=1,
read by `yuyue.asgi`): jobs that push (a dispatch round's offers, a payment's confirmation) reach
the pages' sockets. With Redis, the worker runs apart, as in production."""

from __future__ import annotations

import os
import threading

INTERVAL_SECONDS = 1.0


def start() -> threading.Thread:
    from .workers import new_worker

    worker = new_worker(worker_id=f"embedded-{os.getpid()}", interval=INTERVAL_SECONDS)
    thread = threading.Thread(target=worker.run, name="yuyue-jobs", daemon=True)
    thread.start()
    return thread
