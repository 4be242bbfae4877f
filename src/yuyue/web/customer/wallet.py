"""The wallet: balance and bonus, the ledger's history, top-ups and their plans, points, coupons and
the level; and the inbox of notices.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from yuyue.billing import loyalty, payments
from yuyue.billing.coupons import claim_coupon, claimable, my_unused_claims
from yuyue.billing.models import Payment as BillingPayment
from yuyue.billing.models import TopUpPlan
from yuyue.core.errors import DomainError
from yuyue.core.timeutil import zone
from yuyue.notifications import notices
from yuyue.notifications.models import Notice
from yuyue.web.amounts import whole, yuan_to_fen

from .paying import GATEWAY_LABELS, _to_gateway, page_gateways
from .views import _at


@login_required(login_url="customer:sign-in")
@require_http_methods(["GET", "POST"])
def wallet_page(request):
    """The wallet: cash (available, held), bonus, points with what expires soon, membership
    level, coupons (mine, and those to claim), topping up (a stored-value plan or an amount,
    through a gateway), and the latest moves from the ledger."""
    context = {
        "gateways": [{"name": g, "label": GATEWAY_LABELS[g]()} for g in page_gateways(request)]
    }
    if request.method == "POST":
        try:
            if request.POST.get("action") == "claim":
                claim_coupon(actor=request.user, coupon_id=whole(request.POST.get("coupon")))
                return HttpResponseRedirect(reverse("customer:wallet") + "#coupons")
            how = request.POST.get("how", "")
            if how not in page_gateways(request):
                raise DomainError("invalid_input", _("Choose how to pay."))
            plan = request.POST.get("plan") or ""
            amount = None
            if plan in ("", "other"):
                amount = yuan_to_fen(request.POST.get("amount"))
                if amount is None:
                    raise DomainError("invalid_amount", max=payments.MAX_TOP_UP)
            payment, params = payments.start_gateway_payment(
                actor=request.user,
                top_up_fen=amount,
                plan_id=None if amount is not None else whole(plan),
                gateway=how,
            )
            return _to_gateway(request, None, payment, params)
        except DomainError as exc:
            context["error"] = exc.message()
    tz = zone(settings.TIME_ZONE)
    cash = payments.wallet(request.user.pk)
    history = payments.wallet_history(request.user.pk)
    for row in history:
        row["at"] = _at(row["at"], tz)
        say = MOVES.get(row["kind"])
        row["label"] = say() if say else row["kind"]
    level, upcoming, spent = loyalty.level_of(request.user.pk)
    topping = request.GET.get("topping")
    if topping:
        context["topping"] = BillingPayment.objects.filter(
            out_trade_no=topping, customer=request.user
        ).first()
    mine = my_unused_claims(request.user.pk)
    held = {c.coupon_id for c in mine}
    context.update(
        cash=cash,
        bonus=loyalty.bonus_account(request.user.pk),
        points=loyalty.points_summary(request.user.pk, limit=0),
        level=level,
        next_level=upcoming,
        spent=spent,
        history=history,
        plans=TopUpPlan.objects.filter(active=True),
        coupons=mine,
        to_claim=[c for c in claimable(limit=20) if c.pk not in held],
        tz=tz,
    )
    status = 400 if "error" in context else 200
    return render(request, "web/customer/wallet.html", context, status=status)


MOVES = {  # ledger transfer kinds as a customer reads them
    "top_up": lambda: _("Top-up"),
    "top_up_bonus": lambda: _("Top-up bonus"),
    "top_up_refund": lambda: _("Top-up refunded"),
    "order_payment": lambda: _("Payment"),
    "refund": lambda: _("Refund"),
    "call_charge": lambda: _("Call"),
    "call_fee": lambda: _("Call fee"),
    "cancellation_fee": lambda: _("Cancellation fee"),
    "no_show_fee": lambda: _("No-show fee"),
}


def notice_text(notice: Notice) -> str:
    """What a notice says, in the page's language."""
    p = notice.payload or {}
    if notice.kind == "booking.reminder":
        minutes = p.get("minutes_before")
        if minutes == 0:
            return _("%(service)s starts now.") % {"service": p.get("service", "")}
        return _("%(service)s starts in %(minutes)s minutes.") % {
            "service": p.get("service", ""),
            "minutes": minutes,
        }
    texts = {
        "waitlist.booked": lambda: (
            _("A place came free: you are booked for %(service)s.")
            % {"service": p.get("service", "")}
        ),
        "need.application": lambda: _("A provider applied to your request."),
        "need.cancelled": lambda: _("A request you applied to was cancelled."),
        "need.picked": lambda: _("You were picked for a request."),
        "need.declined": lambda: _("Another provider was picked for a request."),
        "call.warning": lambda: _("Your call is about to run out of time."),
        "slot.closed": lambda: (
            _("%(merchant)s closed %(service)s at %(when)s; your booking stands.")
            % {
                "merchant": p.get("merchant", ""),
                "service": p.get("service", ""),
                "when": p.get("starts_at", ""),
            }
            + (" " + p["message"] if p.get("message") else "")
        ),
        "coupon.given": lambda: (
            _("You were given a coupon: %(coupon)s. It is in your wallet.")
            % {"coupon": p.get("coupon", "")}
        ),
        "application.approved": lambda: _("You are a provider now: open Work to start."),
        "application.rejected": lambda: (
            _("Your application to be a provider was not approved: %(reason)s")
            % {"reason": p.get("reason", "")}
        ),
        "merchant_application.approved": lambda: (
            _("%(business)s is approved: open Shop to set up your store.")
            % {"business": p.get("business", "")}
        ),
        "merchant_application.rejected": lambda: (
            _("%(business)s was not approved: %(reason)s")
            % {"business": p.get("business", ""), "reason": p.get("reason", "")}
        ),
        "staff.added": lambda: (
            _("You were added to the staff of %(merchant)s: open Shop to start.")
            % {"merchant": p.get("merchant", "")}
        ),
    }
    return texts.get(notice.kind, lambda: notice.kind)()


@login_required(login_url="customer:sign-in")
def notices_page(request):
    """My notices, newest first, unread ones marked; each can be marked read."""
    tz = zone(settings.TIME_ZONE)
    rows = notices.my_notices(actor=request.user, limit=100)
    for n in rows:
        n.text = notice_text(n)
        n.local = _at(n.created_at, tz)
    return render(request, "web/customer/notices.html", {"rows": rows})


@login_required(login_url="customer:sign-in")
@require_POST
def notice_read(request, notice_id: int):
    try:
        notice = notices.mark_read(actor=request.user, notice_id=notice_id)
    except DomainError as exc:
        raise Http404 from exc
    if request.htmx:  # the notice again, read, in place
        notice.text = notice_text(notice)
        notice.local = _at(notice.created_at, zone(settings.TIME_ZONE))
        return render(request, "web/customer/_notice.html", {"n": notice})
    return HttpResponseRedirect(reverse("customer:notices"))
