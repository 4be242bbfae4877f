"""Prometheus metrics: what each part counts, exported at /metrics (`yuyue.api.probes`).

Requests, their latency and the database's statements are django-prometheus's (its middleware
and database backends). The business counters are declared by the part that knows the event,
with the helpers here, named `yuyue_…`:

    BOOKINGS = counter("yuyue_bookings_total", "Orders placed", ["channel"])
    count(BOOKINGS, channel="hall")          # counted when the transaction commits

A counter moved inside a transaction is moved on commit (`count`), so a rolled-back booking
is never counted. With several processes (gunicorn workers, job workers) every process writes
its values into PROMETHEUS_MULTIPROC_DIR and the endpoint adds them up (prometheus-client's
multiprocess mode; `deploy/Procfile` sets the directory and empties it at start).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import transaction
from prometheus_client import Counter, Histogram

# Seconds: from a few milliseconds (a booking) to a minute (a big dispatch round, a late job).
SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300)


def counter(name: str, documentation: str, labels: Sequence[str] = ()) -> Counter:
    return Counter(name, documentation, list(labels))


def histogram(
    name: str, documentation: str, labels: Sequence[str] = (), buckets=SECONDS_BUCKETS
) -> Histogram:
    return Histogram(name, documentation, list(labels), buckets=buckets)


def count(metric: Counter, amount: float = 1, **labels: str) -> None:
    """Add `amount` to the counter (with these label values) once the transaction commits; at
    once outside a transaction. A refusal or a rollback counts nothing."""
    if amount <= 0:
        return
    child = metric.labels(**labels) if labels else metric
    transaction.on_commit(lambda: child.inc(amount))
