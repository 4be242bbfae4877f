"""The merchant's figures: a day, week or month against the one before, a chart of bookings and
money by day (Apache ECharts, drawn as SVG on phones), and tables by service, hall and provider,
each as an Excel sheet (`billing.figures`)."""

from __future__ import annotations

import datetime as dt
import json

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from yuyue.accounts.auth import MANAGERS
from yuyue.billing import figures
from yuyue.core.errors import DomainError

from .desk import Desk, desk_page

PERIODS = {
    "day": lambda: pgettext("a period of figures", "Day"),
    "week": lambda: pgettext("a period of figures", "Week"),
    "month": lambda: pgettext("a period of figures", "Month"),
}


def _asked(request) -> tuple[str, dt.date | None]:
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


@desk_page(roles=MANAGERS)
def dashboard(request, desk: Desk):
    period, day = _asked(request)
    report = figures.dashboard(
        actor=request.user, merchant_id=desk.merchant.pk, period=period, day=day
    )
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
    before = {
        "cancelled": p["cancelled"] + p["cancelled_by_staff"],
    }
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
    step = {"day": 1, "week": 7, "month": 31}[period]
    chart = {
        "days": [f"{s['day']:%m-%d}" for s in report["series"]],
        "bookings": [s["bookings"] for s in report["series"]],
        "paid": [s["paid_fen"] / 100 for s in report["series"]],
        "names": {"bookings": _("Bookings"), "paid": _("Paid (¥)")},
    }
    return render(
        request,
        "web/merchant/figures.html",
        {
            "desk": desk,
            "r": report,
            "cards": shown,
            "periods": [(k, say()) for k, say in PERIODS.items()],
            "previous_day": report["first"] - dt.timedelta(days=1),
            "next_day": report["first"] + dt.timedelta(days=step),
            "chart": json.dumps(chart, ensure_ascii=False),
            "tables": [
                ("service", _("By service"), report["by_service"]),
                ("hall", _("By hall"), report["by_hall"]),
                ("provider", _("By provider"), report["by_provider"]),
            ],
        },
    )


@desk_page(roles=MANAGERS)
def export(request, desk: Desk):
    period, day = _asked(request)
    report = figures.dashboard(
        actor=request.user, merchant_id=desk.merchant.pk, period=period, day=day
    )
    table = request.GET.get("table") or "service"
    try:
        content = figures.figures_xlsx(report, table)
    except DomainError as exc:
        return HttpResponse(exc.message(), status=exc.status, content_type="text/plain")
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = f"figures-{desk.merchant.slug}-{table}-{report['first']:%Y%m%d}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
