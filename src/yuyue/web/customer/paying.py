"""Paying for an order: wallet, coupons, points and the gateways (the sandbox in development),
the amount computed as the payment computes it (billing.checkout.compute).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods
from django_htmx.http import HttpResponseClientRefresh

from yuyue.billing import loyalty, payments
from yuyue.billing.checkout import compute
from yuyue.billing.coupons import usable_claims
from yuyue.billing.gateways import get_gateway
from yuyue.billing.models import Payment as BillingPayment
from yuyue.billing.models import PaymentStatus as BillingPaymentStatus
from yuyue.core.errors import DomainError
from yuyue.core.timeutil import zone
from yuyue.orders.models import Booking, PaymentStatus

from .views import _mine

GATEWAY_LABELS = {
    "sandbox": lambda: _("Card (sandbox)"),
    "wechat": lambda: _("WeChat Pay"),
    "alipay": lambda: _("Alipay"),
}


def page_gateways(request, booking: Booking | None = None, series=None) -> list[str]:
    """The gateways this page can pay through: the sandbox where it is on; WeChat Pay's JSAPI
    inside WeChat for a customer signed in with WeChat; Alipay's web checkout where its keys are
    set (each gateway's own `check` says whether it can take this order)."""
    offered = []
    wechat = "MicroMessenger" in request.headers.get("User-Agent", "")
    for name in ("wechat", "alipay", "sandbox"):
        if name == "sandbox" and not settings.YUYUE_SANDBOX_PAYMENTS:
            continue
        if name == "wechat" and not wechat:
            continue
        try:
            get_gateway(name).check(
                BillingPayment(customer=request.user, booking=booking, series=series, gateway=name)
            )
        except DomainError:
            continue
        offered.append(name)
    return offered


def _pay_choices(request) -> tuple[str, str | int | None, bool]:
    """The coupon (the best one: "auto", "none", or a claim's id) and whether to spend points."""
    data = request.POST if request.method == "POST" else request.GET
    raw = data.get("coupon") or "auto"
    if raw in ("auto", "none"):
        coupon = None if raw == "none" else "auto"
    else:
        try:
            coupon = int(raw)
        except ValueError:
            raw, coupon = "auto", "auto"
    return raw, coupon, data.get("points") == "1"


@login_required(login_url="customer:sign-in")
@require_http_methods(["GET", "POST"])
def pay(request, booking_id: int):
    """What paying this order costs now — the level discount, a coupon of the customer's
    choosing (the best by default), points if wanted — by the same computation as the payment;
    paying it from the wallet or through a gateway (the sandbox in development, WeChat Pay
    inside WeChat, Alipay); a gateway payment already started can be resumed."""
    booking = _mine(request, booking_id)
    if booking.series_id:  # a date of a package: the package is paid as one
        return HttpResponseRedirect(reverse("customer:package", args=[booking.series_id]))
    if booking.payment_status != PaymentStatus.UNPAID:
        return HttpResponseRedirect(reverse("customer:booking", args=[booking.pk]))
    raw, coupon, use_points = _pay_choices(request)
    balance = loyalty.points_balance(request.user.pk)
    points = balance if use_points else 0
    gateways = page_gateways(request, booking)
    context = {
        "booking": booking,
        "tz": zone(booking.merchant.timezone),
        "coupon": raw,
        "use_points": use_points,
        "points_balance": balance,
        "gateways": [{"name": g, "label": GATEWAY_LABELS[g]()} for g in gateways],
    }
    if request.method == "POST":
        how = request.POST.get("how", "wallet")
        try:
            if how == "wallet":
                payments.pay_with_wallet(
                    actor=request.user, booking_id=booking.pk, coupon=coupon, points=points
                )
                url = reverse("customer:booking", args=[booking.pk])
                return HttpResponseRedirect(f"{url}?paid=1")
            if how not in gateways:
                raise DomainError("invalid_input", _("Choose how to pay."))
            payment, params = payments.start_gateway_payment(
                actor=request.user, booking_id=booking.pk, gateway=how, coupon=coupon
            )
            return _to_gateway(request, booking, payment, params)
        except DomainError as exc:
            context["error"] = exc.message()
    try:
        context["checkout"] = compute(booking, coupon=coupon, points=points)
    except DomainError as exc:  # a coupon that does not apply (any more): the best instead
        context.setdefault("error", exc.message())
        context["coupon"] = "auto"
        context["checkout"] = compute(booking, coupon="auto", points=points)
    c = context["checkout"]
    context["claims"] = [
        {"id": claim.pk, "name": claim.coupon.name, "off": off}
        for claim, off in usable_claims(request.user.pk, booking, c.price_fen - c.level_fen)
    ]
    context["wallet"] = payments.wallet(request.user.pk)
    context["open"] = (
        BillingPayment.objects.filter(
            booking=booking, status=BillingPaymentStatus.CREATED, gateway="sandbox"
        )
        .order_by("-created_at")
        .first()
    )
    if request.htmx and request.GET.get("part") == "summary":
        return render(request, "web/customer/_pay_summary.html", context)
    return render(
        request, "web/customer/pay.html", context, status=400 if "error" in context else 200
    )


def _to_gateway(request, booking: Booking | None, payment, params: dict):
    """On to the gateway: the sandbox's page, Alipay's checkout, or WeChat's JSAPI in this
    page (the `wx.requestPayment` parameters the API gives a mini-program)."""
    if payment.gateway == "alipay":
        return HttpResponseRedirect(params["pay_url"])
    if payment.gateway == "wechat":
        done = _after_gateway(payment)
        return render(
            request,
            "web/customer/wechat_pay.html",
            {"booking": booking, "params": params, "done": done, "payment": payment},
        )
    return HttpResponseRedirect(reverse("customer:sandbox-pay", args=[payment.out_trade_no]))


@login_required(login_url="customer:sign-in")
@require_http_methods(["GET", "POST"])
def sandbox_pay(request, out_trade_no: str):
    """The sandbox gateway's own checkout page (development): pay or decline; the sandbox then
    notifies the platform over HTTP like a real gateway (a job), and the booking page waits."""
    payment = (
        BillingPayment.objects.select_related("booking__service")
        .filter(out_trade_no=out_trade_no, customer=request.user, gateway="sandbox")
        .first()
    )
    if payment is None or not settings.YUYUE_SANDBOX_PAYMENTS:
        raise Http404
    if request.method == "POST":
        from yuyue.billing.tasks import sandbox_notify

        sandbox_notify.enqueue(out_trade_no, decline=request.POST.get("decline") == "1")
        return HttpResponseRedirect(_after_gateway(payment))
    return render(request, "web/customer/sandbox_pay.html", {"payment": payment})


def gateway_word(request, paying: str):
    """The page waiting for a gateway's word asks again every few seconds (htmx); once the word
    is in (paid or failed), the whole page is loaded again, so that what it shows around the
    notice (the state, the pay buttons) is not left as it was before paying."""
    if request.htmx and paying in ("paid", "failed"):
        return HttpResponseClientRefresh()
    return None


def _after_gateway(payment) -> str:
    """Where the customer waits for a gateway's word: the order's page, or the wallet's."""
    if payment.booking_id:
        return reverse("customer:booking", args=[payment.booking_id]) + "?paying=1"
    if payment.series_id:
        return reverse("customer:package", args=[payment.series_id]) + "?paying=1"
    return reverse("customer:wallet") + f"?topping={payment.out_trade_no}"


# --- following and cancelling --------------------------------------------------------------------
