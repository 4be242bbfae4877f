"""Orders' counters for Prometheus (yuyue.core.metrics): placed by channel, refused by code."""

from __future__ import annotations

from contextlib import ContextDecorator

from yuyue.core.errors import DomainError
from yuyue.core.metrics import count, counter

BOOKINGS = counter("yuyue_bookings_total", "Orders placed (committed), by channel", ["channel"])
REFUSED = counter(
    "yuyue_booking_refusals_total", "Bookings refused, by channel and code", ["channel", "code"]
)


def placed(channel: str) -> None:
    count(BOOKINGS, channel=channel)


class refusals_counted(ContextDecorator):
    """`@refusals_counted("hall_slot")` on a booking function (or `with …:` around a block): a
    DomainError leaving it is counted under its code, and goes on."""

    def __init__(self, channel: str):
        self.channel = channel

    def __enter__(self):
        return self

    def __exit__(self, kind, exc, tb):
        if isinstance(exc, DomainError):
            REFUSED.labels(channel=self.channel, code=exc.code).inc()
        return False
