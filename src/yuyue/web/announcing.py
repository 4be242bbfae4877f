"""Making announcements, on the two sides that make them: operators for the platform
(/ops/announcements/) and a merchant's owners and managers for their merchant
(/shop/announcements/). One form (to whom, a title, a text, for how many days) and the list of
those made, each withdrawable (`engagement.announcements`)."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _

from yuyue.core.errors import DomainError
from yuyue.engagement import announcements
from yuyue.engagement.models import Audience
from yuyue.web.amounts import whole
from yuyue.web.helpers import flash

AUDIENCES = {
    Audience.CUSTOMERS: lambda: _("Customers"),
    Audience.PROVIDERS: lambda: _("Providers"),
    Audience.STAFF: lambda: _("Merchants' staff"),
}


def announcements_page(request, *, merchant_id: int | None, template: str, context: dict):
    actor = request.user
    if request.method == "POST":
        try:
            if request.POST.get("withdraw"):
                announcements.withdraw(actor=actor, announcement_id=whole(request.POST["withdraw"]))
                flash(request, _("Withdrawn: nobody sees it any more."))
            else:
                days = whole(request.POST.get("days")) or 7
                if not 1 <= days <= announcements.MAX_DAYS:
                    raise DomainError("invalid_date_range", max_days=announcements.MAX_DAYS)
                announcements.publish(
                    actor=actor,
                    merchant_id=merchant_id,
                    audience=request.POST.get("audience", ""),
                    title=request.POST.get("title", ""),
                    body=request.POST.get("body", ""),
                    ends_at=timezone.now() + dt.timedelta(days=days),
                )
                flash(request, _("Announced: it shows now."))
        except DomainError as exc:
            flash(request, exc.message(), "error")
        return HttpResponseRedirect(request.get_full_path())
    now = timezone.now()
    made = announcements.listed(actor=actor, merchant_id=merchant_id)
    for a in made:
        a.showing = a.withdrawn_at is None and a.starts_at <= now < a.ends_at
        a.audience_label = AUDIENCES[a.audience]()
    return render(
        request,
        template,
        {
            **context,
            "made": made,
            "audiences": [(k, say()) for k, say in AUDIENCES.items()],
            "flash": request.session.pop("flash", None),
        },
    )
