"""Group commit for hall bookings (ADR 0005): bookings that reach one process while another is
being written queue, and the first of them writes them all in one transaction (`slot_writes`'
statements); on SQLite the writers of all processes take turns through a lock file."""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading

from django.conf import settings
from django.db import connection, transaction

from yuyue.core import sql

from .models import Booking
from .slot_writes import PendingBooking, _write, _write_alone

__all__ = ["PendingBooking", "stats", "write_bookings"]


_lock_files: dict[tuple[int, str], int] = {}


@contextlib.contextmanager
def _leaders_in_turn():
    """SQLite: the batch leaders of all server processes take turns through a lock file.

    SQLite lets one writer in at a time and makes the others poll for the lock with growing
    sleeps (up to 100 ms), so a process that just wrote tends to win again while the other one
    sleeps. A leader waits here instead, in the kernel, and is woken the moment the one before it
    has committed. Only one leader per process exists at a time, so one descriptor per process
    serves. Other writers still meet SQLite's own lock (with its busy timeout) as before.
    """
    db = sql.default_db()
    name = str(db.settings_dict["NAME"])
    if db.vendor != "sqlite" or name.startswith((":memory:", "file:")):
        yield
        return
    key = (os.getpid(), name)  # a forked worker opens its own descriptor
    fd = _lock_files.get(key)
    if fd is None:
        fd = _lock_files[key] = os.open(name + "-bookings.lock", os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)


def _run(batch: list[PendingBooking]) -> None:
    """Write a batch in one transaction; if it fails as a whole, each booking alone."""
    stats.record(len(batch))
    with _leaders_in_turn():
        if len(batch) == 1:
            _write_alone(batch[0])
            return
        try:
            with transaction.atomic():
                _write(batch)
        except Exception:  # noqa: BLE001
            for p in batch:
                _write_alone(p)
            return
        for p in batch:
            p.written = p.error is None


class _Stats:
    """Batch sizes written by this process (for tests and `bench/booking.py`)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.batches = 0
        self.bookings = 0
        self.largest = 0

    def record(self, size: int) -> None:
        with self.lock:
            self.batches += 1
            self.bookings += size
            self.largest = max(self.largest, size)

    def snapshot(self) -> dict[str, int]:
        with self.lock:
            return {"batches": self.batches, "bookings": self.bookings, "largest": self.largest}


stats = _Stats()


class _Combiner:
    """Requests that arrive while a batch is being written queue here; when it is done, the
    first of them becomes the leader and writes them all (at most `YUYUE_BOOKING_BATCH_MAX`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: list[PendingBooking] = []
        self._leading = False

    def submit(self, p: PendingBooking) -> None:
        with self._lock:
            self._queue.append(p)
            lead = not self._leading  # nobody writing: the queue was empty, p is its head
            self._leading = True
        if not lead:
            p._event.wait()
            if p.done:
                return
            # promoted: p is the head of the queue now
        with self._lock:
            size = max(1, settings.YUYUE_BOOKING_BATCH_MAX)
            batch, self._queue[:size] = self._queue[:size], []
        try:
            _run(batch)
        except Exception as exc:  # noqa: BLE001 (e.g. the lock file cannot be opened)
            for q in batch:
                q.error = q.error or exc
        finally:
            for q in batch:
                if not q.written and q.error is None:  # never report an unwritten booking
                    q.error = RuntimeError("the booking was not written")
                q.done = True
                if q is not p:
                    q._event.set()
            with self._lock:
                if self._queue:
                    self._queue[0]._event.set()  # the next leader
                else:
                    self._leading = False


_combiner = _Combiner()  # one per process: bookings go to the default database


def write_bookings(p: PendingBooking) -> Booking:
    """Write one checked booking (batched with concurrent ones when nothing holds a transaction);
    raises its refusal (per_user_limit, slot_full, slot_closed) with nothing written."""
    if connection.in_atomic_block or settings.YUYUE_BOOKING_BATCH_MAX <= 1:
        _write_alone(p)
        if p.error is not None:
            raise p.error
        return p.booking
    _combiner.submit(p)
    if p.error is not None:
        raise p.error
    return p.booking
