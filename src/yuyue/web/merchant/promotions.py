"""The merchant's coupons: make one (amount off above a spend 满减, percentage off, amount off;
new customers only or anyone; one service or all; a period; how many in all and each; in the
claim centre or only handed out), see how many were claimed and spent, and hand one to a
customer by phone. The services of `billing.coupons`."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yuyue.accounts.auth import MANAGERS
from yuyue.billing import coupons, loyalty
from yuyue.billing.models import CouponKind, MembershipLevel
from yuyue.catalog.models import Service
from yuyue.core.errors import DomainError
from yuyue.core.timeutil import local_day_bounds
from yuyue.web.amounts import yuan_to_fen

from .desk import Desk, desk_page
from .views import _flash

KINDS = (
    (CouponKind.THRESHOLD, lambda: _("Amount off above a spend")),
    (CouponKind.PERCENT, lambda: _("Percentage off")),
    (CouponKind.FIXED, lambda: _("Amount off")),
)
FIELDS = ("name", "kind", "value", "threshold", "percent", "cap", "service", "valid_from",
          "valid_until", "total", "each", "new_only", "public")  # fmt: skip


def _fen(raw: str, *, blank_is_zero: bool = True) -> int:
    raw = (raw or "").strip()
    if not raw and blank_is_zero:
        return 0
    fen = yuan_to_fen(raw)
    if fen is None:
        raise DomainError("invalid_amount", max=10**9)
    return fen


def whole(raw: str) -> int:
    raw = (raw or "").strip()
    if not raw.isdigit():
        raise DomainError("coupon_counts_invalid", max=coupons.MAX_COUPONS)
    return int(raw)


@desk_page(roles=MANAGERS)
def coupon_list(request, desk: Desk):
    rows = coupons.merchant_coupons(actor=request.user, merchant_id=desk.merchant.pk)
    for c in rows:
        c.local_from = c.valid_from.astimezone(desk.tz)
        c.local_until = c.valid_until.astimezone(desk.tz)
    today = timezone.now().astimezone(desk.tz).date()
    kept = request.session.pop("coupon_form", None) or {
        "kind": CouponKind.THRESHOLD,
        "valid_from": f"{today:%Y-%m-%d}",
        "valid_until": f"{today + dt.timedelta(days=30):%Y-%m-%d}",
        "each": "1",
        "public": "on",
    }
    return render(
        request,
        "web/merchant/coupons.html",
        {
            "desk": desk,
            "rows": rows,
            "kinds": [(k, say()) for k, say in KINDS],
            "services": Service.objects.filter(merchant=desk.merchant).order_by("name"),
            "kept": kept,
            "levels": MembershipLevel.objects.filter(merchant=desk.merchant).order_by(
                "min_spend_fen"
            ),
            "flash": request.session.pop("flash", None),
        },
    )


@desk_page(roles=MANAGERS)
@require_POST
def coupon_new(request, desk: Desk):
    form = {k: (request.POST.get(k) or "").strip() for k in FIELDS}
    try:
        kind = form["kind"]
        try:
            first = dt.date.fromisoformat(form["valid_from"])
            last = dt.date.fromisoformat(form["valid_until"])
        except ValueError as exc:
            raise DomainError("invalid_date_range", max_days=366) from exc
        service = form["service"]
        coupons.create_coupon(
            actor=request.user,
            merchant_id=desk.merchant.pk,
            name=form["name"],
            kind=kind,
            value_fen=_fen(form["value"]) if kind != CouponKind.PERCENT else 0,
            threshold_fen=_fen(form["threshold"]) if kind == CouponKind.THRESHOLD else 0,
            percent=int(form["percent"]) if form["percent"].isdigit() else 0,
            cap_fen=_fen(form["cap"]) if kind == CouponKind.PERCENT else 0,
            new_customers_only=bool(form["new_only"]),
            service_id=int(service) if service.isdigit() else None,
            valid_from=local_day_bounds(first, desk.tz)[0],
            valid_until=local_day_bounds(last, desk.tz)[1],
            total_limit=whole(form["total"]),
            per_customer_limit=whole(form["each"]),
            public=bool(form["public"]),
        )
    except DomainError as exc:
        _flash(request, exc.message(), "error")
        request.session["coupon_form"] = form  # nothing typed is lost
    else:
        _flash(request, _("Coupon made."))
    return HttpResponseRedirect(reverse("merchant:coupons"))


@desk_page(roles=MANAGERS)
@require_POST
def coupon_give(request, desk: Desk, coupon_id: int):
    try:
        if coupon_id not in {
            c.pk for c in coupons.merchant_coupons(actor=request.user, merchant_id=desk.merchant.pk)
        }:
            raise DomainError("not_found")
        coupons.give_coupon(
            actor=request.user, coupon_id=coupon_id, phone=request.POST.get("phone", "")
        )
    except DomainError as exc:
        _flash(request, exc.message(), "error")
    else:
        _flash(request, _("Given: the customer finds it in their wallet."))
    return HttpResponseRedirect(reverse("merchant:coupons"))


@desk_page(roles=MANAGERS)
@require_POST
def levels(request, desk: Desk):
    """Add a membership level (a spend at this merchant that earns a discount on its orders),
    or remove one (`billing.loyalty`)."""
    try:
        if request.POST.get("remove"):
            loyalty.delete_level(
                actor=request.user,
                merchant_id=desk.merchant.pk,
                level_id=int(request.POST["remove"]),
            )
        else:
            percent = (request.POST.get("discount") or "").strip()
            try:
                bp = round(float(percent) * 100)
            except ValueError as exc:
                raise DomainError("invalid_discount", max=loyalty.MAX_LEVEL_DISCOUNT_BP) from exc
            loyalty.create_level(
                actor=request.user,
                merchant_id=desk.merchant.pk,
                name=request.POST.get("name", ""),
                min_spend_fen=_fen(request.POST.get("spend")),
                discount_bp=bp,
            )
    except (DomainError, ValueError) as exc:
        _flash(request, exc.message() if isinstance(exc, DomainError) else str(exc), "error")
    else:
        _flash(request, _("Membership levels saved."))
    return HttpResponseRedirect(reverse("merchant:coupons"))
