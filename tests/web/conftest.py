"""Page tests: Debian's chromium driven through Playwright's sync API."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

from django.utils import timezone

from tests.browser import ARGS, CHROMIUM, launch, launched  # noqa: F401 (page tests use them)

# the consultant's pages are tested with the calls' fixtures: a consultant, their service, a call
from tests.calls.conftest import book_call, call_service, consultant  # noqa: F401
from tests.engagement.conftest import paid_order  # noqa: F401

# Screenshots of the pages as the tests saw them, to look at (var/ is the run's own folder).
SHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"  # version: vendor/VERSIONS


def axe_violations(page) -> list[dict]:
    """axe-core's accessibility violations on the page as it is now: [{id, impact, nodes}]."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document)")
    return [
        {"id": v["id"], "impact": v["impact"], "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]


def shoot(page, name: str) -> Path:
    """Save a full-page screenshot of `page` as var/screenshots/<name>.png."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


PHONE = {"width": 390, "height": 844}  # a common phone's viewport, in CSS pixels


def loaded_width(page, selector: str, timeout: float = 15_000) -> int:
    """The natural width of the picture `selector` once it has loaded (pictures below the fold
    load lazily, and on a busy machine any picture takes a moment)."""
    page.wait_for_function(
        "s => { const i = document.querySelector(s); return i?.complete && i.naturalWidth > 0 }",
        arg=selector,
        timeout=timeout,
    )
    return page.evaluate("s => document.querySelector(s).naturalWidth", selector)


def same_day_start(hours_ahead: float, zone: str = "Asia/Shanghai", room: int = 4) -> dt.datetime:
    """A start on the hour at least `hours_ahead` from now whose next `room` hours stay in one
    local day (a provider working 00:00-23:59 can take it at any time of day the suite runs);
    past the day's end, the next day at the same distance from midnight."""
    start = (timezone.now() + dt.timedelta(hours=hours_ahead)).astimezone(ZoneInfo(zone))
    start = start.replace(minute=0, second=0, microsecond=0) + dt.timedelta(hours=1)
    if start.hour + room > 23:
        start = (start + dt.timedelta(days=1)).replace(hour=int(hours_ahead) % (24 - room))
    return start
