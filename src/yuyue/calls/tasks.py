"""The worker's safety net for calls nobody is connected to: silent sides, limits, no-shows."""

from __future__ import annotations

from yuyue.core.periodic import periodic


@periodic(every="YUYUE_CALL_SWEEP_SECONDS")
def sweep_calls_job() -> int:
    from . import services

    return len(services.sweep())
