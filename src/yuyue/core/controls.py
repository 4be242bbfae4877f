"""The concurrency tests' controls: where a guarded write can be swapped for a naive one.

Each guard (capacity, the per-user limit, a provider's time, a redeemed code, a grab, a refund's
claim) is shown by a test that races real clients against a server twice: once as it is, and once
with the guard replaced by the classic read-then-write, to show the race the guard prevents
(tests/concurrency). The naive writes live in the test suite (`tests/concurrency/unguarded.py`);
production code only names the places where a guarded write may be swapped:

    naive = race_control("check_in")       # None unless the tests installed a replacement
    if naive is not None:
        return naive(booking=booking, actor=actor, now=now)

`settings.YUYUE_RACE_CONTROLS` is the dotted path of the module holding the replacements; the
test suite sets it (environment variable of the same name) for its control servers only. Empty,
as everywhere else, every guard is in place.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import import_module

from django.conf import settings


def race_control(name: str) -> Callable | None:
    """The test suite's naive replacement for the guarded write `name`, or None."""
    path = settings.YUYUE_RACE_CONTROLS
    if not path:
        return None
    return getattr(import_module(path), name, None)
