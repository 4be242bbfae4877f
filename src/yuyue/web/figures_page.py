"""What a figures page shows of a dashboard (`billing.figures`), on every side that has one (a
merchant's managers, the platform's operators): the period chosen, the cards with their change on
the period before, and the chart's data (Apache ECharts, drawn by `web/figures.js`)."""

from __future__ import annotations

import datetime as dt
import json

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

PERIODS = {
    "day": lambda: pgettext("a period of figures", "Day"),
    "week": lambda: pgettext("a period of figures", "Week"),
    "month": lambda: pgettext("a period of figures", "Month"),
}


def asked(request) -> tuple[str, dt.date | None]:
    """The period and day a page asks for (a week holding today when it asks nothing valid)."""
    period = request.GET.get("period") or "week"
    if period not in PERIODS:
        period = "week"
    try:
        day = dt.date.fromisoformat(request.GET.get("day") or "")
    except ValueError:
        day = None
    return period, day


def _change(now, before):
    """The change against the period before, in percent (None when there is nothing to compare)."""
    if now is None or before in (None, 0):
        return None
    return round((now - before) * 100 / before)


def figures_context(report: dict) -> dict:
    t, p = report["totals"], report["previous"]
    cards = [
        ("bookings", _("Bookings"), t["bookings"], "count"),
        ("paid_fen", _("Paid (GMV)"), t["paid_fen"], "fen"),
        ("refunded_fen", _("Refunded"), t["refunded_fen"], "fen"),
        ("completion_rate", _("Completed"), t["completion_rate"], "rate"),
        ("on_time_rate", _("On time"), t["on_time_rate"], "rate"),
        ("cancelled", _("Cancelled"), t["cancelled"] + t["cancelled_by_staff"], "count"),
        ("no_shows", _("No-shows"), t["no_shows"], "count"),
        ("utilisation", _("Providers' time used"), t["utilisation"], "rate"),
    ]
    before = {"cancelled": p["cancelled"] + p["cancelled_by_staff"]}
    shown = [
        {
            "key": key,
            "label": label,
            "value": value,
            "kind": kind,
            "change": _change(value, before.get(key, p.get(key))),
        }
        for key, label, value, kind in cards
    ]
    step = {"day": 1, "week": 7, "month": 31}[report["period"]]
    chart = {
        "days": [f"{s['day']:%m-%d}" for s in report["series"]],
        "bookings": [s["bookings"] for s in report["series"]],
        "paid": [s["paid_fen"] / 100 for s in report["series"]],
        "names": {"bookings": _("Bookings"), "paid": _("Paid (¥)")},
    }
    return {
        "r": report,
        "cards": shown,
        "periods": [(k, say()) for k, say in PERIODS.items()],
        "previous_day": report["first"] - dt.timedelta(days=1),
        "next_day": report["first"] + dt.timedelta(days=step),
        "chart": json.dumps(chart, ensure_ascii=False),
    }


def xlsx_response(content: bytes, name: str):
    from django.http import HttpResponse

    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
