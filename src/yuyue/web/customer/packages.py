"""Monthly packages 包月 in pages: a provider every week on chosen days at a time, for some
weeks, at one address; the dates it makes (and which cannot be booked) before booking; then one
price, one payment and one cancellation for the whole package.

The rules are `orders.series` (`preview_series`, `book_series`, `my_series`, `cancel_series`)
and `billing.payments` (`package_checkout`, `pay_package_with_wallet`), as the API's.
"""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from yuyue.accounts.models import Provider
from yuyue.billing import packages as billing_packages
from yuyue.billing import payments
from yuyue.billing.models import Payment as BillingPayment
from yuyue.billing.models import PaymentStatus as BillingPaymentStatus
from yuyue.billing.refunds import policy_refund
from yuyue.catalog.models import ServiceKind
from yuyue.core.errors import DomainError
from yuyue.core.timeutil import zone
from yuyue.orders import series as packages
from yuyue.orders.models import BookingStatus, PaymentStatus
from yuyue.orders.states import BEFORE_SERVICE
from yuyue.pricing.prices import chosen_unit_price

from .onsite import _default_address_text, _point
from .paying import GATEWAY_LABELS, _to_gateway, gateway_word, page_gateways
from .views import _at, _rules, _service, _sign_in_url

WEEKDAYS = [
    gettext_lazy("Mon"),
    gettext_lazy("Tue"),
    gettext_lazy("Wed"),
    gettext_lazy("Thu"),
    gettext_lazy("Fri"),
    gettext_lazy("Sat"),
    gettext_lazy("Sun"),
]
WEEKS = (1, 2, 4, 8, 12)
PROBLEMS = {
    "time_past": gettext_lazy("already past"),
    "time_off_step": gettext_lazy("not a start time of the service"),
    "provider_unavailable": gettext_lazy("not a working time"),
    "provider_busy": gettext_lazy("already booked"),
}


def _provider(provider_id: int) -> Provider:
    provider = (
        Provider.objects.select_related("merchant")
        .filter(pk=provider_id, active=True, verified=True)
        .first()
    )
    if provider is None:
        raise Http404
    return provider


def _times(service) -> list[str]:
    """The start times offered: from 06:00 to 21:00 in the service's steps."""
    step = service.step_minutes or 60
    return [f"{m // 60:02d}:{m % 60:02d}" for m in range(6 * 60, 21 * 60 + 1, step)]


def _rule(request, tz) -> tuple[dict, dict]:
    """The package's rule from the form, and the form as typed."""
    data = request.POST if request.method == "POST" else request.GET
    today = timezone.now().astimezone(tz).date()
    weekdays = sorted({int(d) for d in data.getlist("weekday") if d in "0123456"})
    try:
        first = dt.date.fromisoformat(data.get("date_from") or "")
    except ValueError:
        first = today + dt.timedelta(days=1)
    try:
        weeks = int(data.get("weeks") or 4)
    except ValueError:
        weeks = 4
    weeks = weeks if weeks in WEEKS else 4
    form = {
        "weekdays": weekdays,
        "start": data.get("start") or "09:00",
        "date_from": first,
        "weeks": weeks,
        "address": data.get("address", "") or _default_address_text(request),
        "skip": data.get("skip") == "1",
    }
    rule = {
        "weekdays": weekdays,
        "start": form["start"],
        "date_from": first.isoformat(),
        "date_to": (first + dt.timedelta(days=7 * weeks - 1)).isoformat(),
    }
    return rule, form


@require_http_methods(["GET", "POST"])
def new_package(request, provider_id: int):
    """Book a provider every week: days, time, first date, how many weeks, the address; the
    dates it makes are shown (with those that cannot be booked, and why) before booking."""
    provider = _provider(provider_id)
    try:
        sid = int(request.GET.get("service") or request.POST.get("service") or 0)
    except ValueError:
        sid = 0
    found = provider.services.filter(pk=sid, kind=ServiceKind.ON_SITE, active=True).first()
    if found is None:
        raise Http404
    service = _service(found.pk)
    tz = zone(provider.zone_name)
    rule, form = _rule(request, tz)
    point = _point(request)
    context = {
        "provider": provider,
        "service": service,
        "form": form,
        "weekdays": list(enumerate(WEEKDAYS)),
        "times": _times(service),
        "weeks_choices": WEEKS,
        "rules": _rules(service),
        "point": point,
        "min_date": timezone.now().astimezone(tz).date(),
    }
    if request.method == "GET" or not form["weekdays"]:
        if request.method == "POST":
            context["error"] = _("Choose at least one day of the week.")
        return render(request, "web/customer/package_new.html", context)
    if not request.user.is_authenticated:
        return HttpResponseRedirect(_sign_in_url(request))
    try:
        preview = packages.preview_series(service_id=service.pk, provider_id=provider.pk, rule=rule)
        if request.POST.get("action") == "book":
            made, _dates = packages.book_series(
                actor=request.user,
                service_id=service.pk,
                provider_id=provider.pk,
                rule=rule,
                skip_conflicts=form["skip"],
                address=form["address"],
                lat=point[0] if point else None,
                lng=point[1] if point else None,
            )
            return HttpResponseRedirect(reverse("customer:package", args=[made.pk]))
    except DomainError as exc:
        context["error"] = exc.message()
        context["address_error"] = exc.code == "address_required"
        if exc.code != "series_conflicts":
            return render(request, "web/customer/package_new.html", context, status=exc.status)
        preview = packages.preview_series(service_id=service.pk, provider_id=provider.pk, rule=rule)
    context["dates"] = [
        {
            "at": _at(o["starts_at"], tz),
            "ok": o["ok"],
            "problem": PROBLEMS.get(o["problem"], o["problem"]) if o["problem"] else "",
            "price": chosen_unit_price(service, provider, o["starts_at"]) if o["ok"] else 0,
        }
        for o in preview
    ]
    context["total"] = sum(d["price"] for d in context["dates"])
    context["conflicts"] = sum(not d["ok"] for d in context["dates"])
    context["previewed"] = True
    return render(request, "web/customer/package_new.html", context)


@login_required(login_url="customer:sign-in")
def package_page(request, series_id: int):
    """My package: who comes, when (the rule and every date with its state), where, what it
    costs; paying it as one; cancelling it as one, with what comes back shown first."""
    try:
        made, dates = packages.my_series(actor=request.user, series_id=series_id)
    except DomainError as exc:
        raise Http404 from exc
    tz = zone(made.provider.zone_name)
    now = timezone.now()
    for d in dates:
        d.local_start = _at(d.starts_at, tz)
    later = [d for d in dates if d.status in BEFORE_SERVICE and d.starts_at > now]
    paid_later = [d for d in later if d.payment_status == PaymentStatus.PAID]
    back = sum(policy_refund(d) for d in paid_later)
    unpaid = [d for d in dates if d.status == BookingStatus.AWAITING_PAYMENT]
    context = {
        "s": made,
        "tz": tz,
        "dates": dates,
        "weekdays": [WEEKDAYS[i] for i in made.rule.get("weekdays", [])],
        "date_from": dt.date.fromisoformat(made.rule["date_from"]),
        "date_to": dt.date.fromisoformat(made.rule["date_to"]),
        "unpaid": bool(unpaid),
        "cancellable": bool(later),
        "paid_later": sum(d.price_fen for d in paid_later),
        "back": back,
        "confirm": request.GET.get("cancel") == "1",
        "just_paid": request.GET.get("paid") == "1",
        "error": request.session.pop("flash_error", None),
        "rules": _rules(made.service),
    }
    if unpaid:
        context["checkout"] = billing_packages.package_checkout(request.user, made.pk)
        context["wallet"] = payments.wallet(request.user.pk)
        context["short"] = max(0, context["checkout"]["due_fen"] - context["wallet"].available)
        context["gateways"] = [
            {"name": g, "label": GATEWAY_LABELS[g]()} for g in page_gateways(request, series=made)
        ]
    if request.GET.get("paying") == "1":
        last = BillingPayment.objects.filter(series=made).order_by("-created_at").first()
        failed = last is not None and last.status == BillingPaymentStatus.FAILED
        context["paying"] = "paid" if not unpaid else "failed" if failed else "waiting"
    return gateway_word(request, context.get("paying", "")) or render(
        request, "web/customer/package.html", context
    )


def _only_mine(request, series_id: int) -> None:
    """Another customer's package is not found, as a missing one is."""
    try:
        packages.my_series(actor=request.user, series_id=series_id)
    except DomainError as exc:
        raise Http404 from exc


@login_required(login_url="customer:sign-in")
@require_POST
def pay_package(request, series_id: int):
    """Pay the package as one: from the wallet, or through a gateway the page offers (one
    trade for every unpaid date; the page then waits for the gateway's word)."""
    _only_mine(request, series_id)
    gateway = request.POST.get("gateway", "")
    try:
        if gateway:
            made, _dates = packages.my_series(actor=request.user, series_id=series_id)
            if gateway not in page_gateways(request, series=made):
                raise DomainError("gateway_not_configured", gateway=gateway)
            payment, params = billing_packages.start_package_payment(
                actor=request.user, series_id=series_id, gateway=gateway
            )
            return _to_gateway(request, None, payment, params)
        billing_packages.pay_package_with_wallet(actor=request.user, series_id=series_id)
    except DomainError as exc:
        request.session["flash_error"] = exc.message()
        return HttpResponseRedirect(reverse("customer:package", args=[series_id]))
    return HttpResponseRedirect(reverse("customer:package", args=[series_id]) + "?paid=1")


@login_required(login_url="customer:sign-in")
@require_POST
def cancel_package(request, series_id: int):
    _only_mine(request, series_id)
    try:
        packages.cancel_series(
            actor=request.user, series_id=series_id, reason=request.POST.get("reason", "")[:300]
        )
    except DomainError as exc:
        request.session["flash_error"] = exc.message()
    return HttpResponseRedirect(reverse("customer:package", args=[series_id]))
