"""A provider's money: earnings frozen and available, the statement of every posting, withdrawals
with their review state and reason.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from yuyue.accounts.models import Provider
from yuyue.billing import settlement
from yuyue.billing.models import Withdrawal
from yuyue.core.errors import DomainError

from .views import _flash, _tz, provider_page

POSTINGS = {  # ledger transfer kinds as a provider reads them
    "settlement": lambda: _("Order settled"),
    "earnings_release": lambda: _("Became available"),
    "payout": lambda: _("Withdrawal paid out"),
    "no_show_fee": lambda: _("No-show share"),
    "cancellation_fee": lambda: _("Cancellation share"),
    "call_charge": lambda: _("Call"),
}


@provider_page
def money(request, provider: Provider):
    """Earnings (frozen until the complaint window closes, then available), the statement of
    every posting, withdrawals with their state, and asking for one."""
    tz = _tz(provider)
    context = {
        "earnings": settlement.earnings(provider),
        "statement": settlement.statement(provider, limit=50),
        "withdrawals": list(
            Withdrawal.objects.filter(provider=provider).order_by("-created_at")[:20]
        ),
        "flash": request.session.pop("flash", None),
        "min_fen": settings.YUYUE_MIN_WITHDRAWAL_FEN,
    }
    for w in context["withdrawals"]:
        w.local = w.created_at.astimezone(tz)
    for line in context["statement"]["lines"]:
        line["local"] = line["at"].astimezone(tz)
        say = POSTINGS.get(line["kind"])
        line["label"] = say() if say else line["kind"]
    if request.method == "POST":
        from yuyue.web.amounts import yuan_to_fen

        amount = yuan_to_fen(request.POST.get("amount"))
        try:
            if amount is None:
                raise DomainError("invalid_amount", max=0)
            settlement.request_withdrawal(actor=request.user, amount_fen=amount)
        except DomainError as exc:
            _flash(request, exc.message())
        else:
            _flash(request, _("Withdrawal requested: an operator reviews it."), "ok")
        return HttpResponseRedirect(reverse("provider:money"))
    return render(request, "web/provider/money.html", context)
