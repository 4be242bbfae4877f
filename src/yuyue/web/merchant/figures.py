"""The merchant's figures: a day, week or month against the one before, a chart of bookings and
money by day (Apache ECharts, drawn as SVG on phones), and tables by service, hall and provider,
each as an Excel sheet (`billing.figures`)."""

from __future__ import annotations

from django.http import HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from yuyue.accounts.auth import MANAGERS
from yuyue.billing import figures
from yuyue.core.errors import DomainError
from yuyue.web.figures_page import asked, figures_context, xlsx_response

from .desk import Desk, desk_page


@desk_page(roles=MANAGERS)
def dashboard(request, desk: Desk):
    period, day = asked(request)
    report = figures.dashboard(
        actor=request.user, merchant_id=desk.merchant.pk, period=period, day=day
    )
    return render(
        request,
        "web/merchant/figures.html",
        {
            "desk": desk,
            **figures_context(report),
            "tables": [
                ("service", _("By service"), report["by_service"]),
                ("hall", _("By hall"), report["by_hall"]),
                ("provider", _("By provider"), report["by_provider"]),
            ],
        },
    )


@desk_page(roles=MANAGERS)
def export(request, desk: Desk):
    period, day = asked(request)
    report = figures.dashboard(
        actor=request.user, merchant_id=desk.merchant.pk, period=period, day=day
    )
    table = request.GET.get("table") or "service"
    try:
        content = figures.figures_xlsx(report, table)
    except DomainError as exc:
        return HttpResponse(exc.message(), status=exc.status, content_type="text/plain")
    return xlsx_response(
        content, f"figures-{desk.merchant.slug}-{table}-{report['first']:%Y%m%d}.xlsx"
    )
