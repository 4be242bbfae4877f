"""The concurrency tests' controls: a switch that replaces a guard by the naive read-then-write.

`settings.YUYUE_UNGUARDED` is set only by the test suite, for the one server process whose runs
show the race each guard prevents (tests/concurrency). Never set it anywhere else.
"""

from __future__ import annotations

import time

from django.conf import settings

RACE_WINDOW_SECONDS = 0.2  # how long an unguarded path waits between its read and its write


def unguarded() -> bool:
    return bool(settings.YUYUE_UNGUARDED)


def race_window() -> None:
    """The pause between the naive read and the write, so racing requests all read first."""
    time.sleep(RACE_WINDOW_SECONDS)
