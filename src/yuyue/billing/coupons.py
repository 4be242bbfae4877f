"""Coupons: claimed in the claim centre (never more than issued, never more than each customer's
limit — both guarded by conditional UPDATEs), and spent once on an order; the best applicable
coupon is chosen unless the customer picks another.

A coupon works on what is left of the price after the customer's membership level discount
(`amount_fen`, the price itself when there is none): its threshold, percentage and cap all read
that amount."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from yuyue.accounts.auth import MANAGERS, require_staff
from yuyue.core.audit import audit
from yuyue.core.errors import DomainError
from yuyue.orders.models import Booking
from yuyue.orders.models import PaymentStatus as OrderPayment

from .models import Coupon, CouponClaim, CouponHolder, CouponKind


def discount(coupon: Coupon, amount_fen: int) -> int:
    if coupon.kind == CouponKind.THRESHOLD:
        off = coupon.value_fen if amount_fen >= coupon.threshold_fen else 0
    elif coupon.kind == CouponKind.PERCENT:
        off = amount_fen * coupon.percent // 100
        if coupon.cap_fen:
            off = min(off, coupon.cap_fen)
    else:
        off = coupon.value_fen
    return max(0, min(off, amount_fen))


# an order that was paid, whatever was refunded of it since
PAID_ONCE = (OrderPayment.PAID, OrderPayment.PARTIALLY_REFUNDED, OrderPayment.REFUNDED)


def _new_customer(customer_id: int) -> bool:
    return not Booking.objects.filter(
        customer_id=customer_id, payment_status__in=PAID_ONCE
    ).exists()


def applies(coupon: Coupon, booking: Booking, *, now=None, amount_fen: int | None = None) -> bool:
    now = now or timezone.now()
    amount_fen = booking.price_fen if amount_fen is None else amount_fen
    if not coupon.valid_from <= now < coupon.valid_until:
        return False
    if coupon.merchant_id and coupon.merchant_id != booking.merchant_id:
        return False
    if coupon.service_id and coupon.service_id != booking.service_id:
        return False
    if coupon.category_id and coupon.category_id not in (
        booking.service.category_id,
        getattr(booking.service.category, "parent_id", None),
    ):
        return False
    if coupon.new_customers_only and not _new_customer(booking.customer_id):
        return False
    return discount(coupon, amount_fen) > 0


def claimable(limit: int = 200) -> list[Coupon]:
    """The claim centre: coupons valid now that are not all claimed, ending soonest first."""
    now = timezone.now()
    return list(
        Coupon.objects.filter(
            public=True, valid_from__lte=now, valid_until__gt=now, claimed__lt=F("total_limit")
        ).order_by("valid_until")[:limit]
    )


def my_unused_claims(customer_id: int) -> list[CouponClaim]:
    """The customer's coupons not spent yet and still valid, ending soonest first."""
    return list(
        CouponClaim.objects.filter(
            customer_id=customer_id, used_on__isnull=True, coupon__valid_until__gt=timezone.now()
        )
        .select_related("coupon")
        .order_by("coupon__valid_until")
    )


def claim_coupon(*, actor, coupon_id: int) -> CouponClaim:
    """A customer claims a coupon of the claim centre (a coupon only handed out is not found)."""
    coupon = Coupon.objects.filter(pk=coupon_id, public=True).first()
    if coupon is None:
        raise DomainError("not_found")
    return _claim(actor, coupon, by=actor)


def _claim(customer, coupon: Coupon, *, by) -> CouponClaim:
    now = timezone.now()
    if not coupon.valid_from <= now < coupon.valid_until:
        raise DomainError("coupon_not_valid")
    with transaction.atomic():
        CouponHolder.objects.bulk_create(
            [CouponHolder(coupon=coupon, customer=customer)], ignore_conflicts=True
        )
        if not CouponHolder.objects.filter(
            coupon=coupon, customer=customer, count__lt=coupon.per_customer_limit
        ).update(count=F("count") + 1):
            raise DomainError("coupon_limit_reached")
        if not Coupon.objects.filter(pk=coupon.pk, claimed__lt=F("total_limit")).update(
            claimed=F("claimed") + 1
        ):
            raise DomainError("coupon_sold_out")
        claim = CouponClaim.objects.create(coupon=coupon, customer=customer)
        audit(by, "coupon.claim" if by == customer else "coupon.give", coupon, to=customer.pk)
    return claim


def give_coupon(*, actor, coupon_id: int, phone: str) -> CouponClaim:
    """Staff hand one of their merchant's coupons to a customer found by phone, within the
    coupon's limits (how many in all, how many each), as claiming does; the customer is told."""
    from yuyue.accounts.models import User
    from yuyue.accounts.phones import normalize_phone, phone_index
    from yuyue.notifications.sending import notify

    coupon = Coupon.objects.filter(pk=coupon_id).first()
    if coupon is None or coupon.merchant_id is None:
        raise DomainError("not_found")
    require_staff(actor, coupon.merchant_id, MANAGERS)
    customer = User.objects.filter(phone_index=phone_index(normalize_phone(phone))).first()
    if customer is None:
        raise DomainError("customer_unknown")
    with transaction.atomic():
        claim = _claim(customer, coupon, by=actor)
        notify(customer.pk, "coupon.given", coupon=coupon.name, coupon_id=coupon.pk)
    return claim


MAX_COUPONS = 1_000_000


def create_coupon(
    *,
    actor,
    merchant_id: int,
    name: str,
    kind: str,
    valid_from,
    valid_until,
    total_limit: int,
    value_fen: int = 0,
    threshold_fen: int = 0,
    percent: int = 0,
    cap_fen: int = 0,
    new_customers_only: bool = False,
    service_id: int | None = None,
    per_customer_limit: int = 1,
    public: bool = True,
) -> Coupon:
    """A merchant's coupon: amount off above a threshold (满减), a percentage off (capped or
    not), or an amount off; for new customers only or anyone; for one service or all the
    merchant's; valid in a period; how many in all and for each customer; claimed in the claim
    centre (`public`) or only handed out. Owners and managers make them."""
    from yuyue.catalog.models import Service

    require_staff(actor, merchant_id, MANAGERS)
    name = (name or "").strip()
    if not 1 <= len(name) <= 100:
        raise DomainError("name_required")
    if kind not in CouponKind.values:
        raise DomainError("invalid_input", "Unknown kind of coupon.")
    for amount in (value_fen, threshold_fen, cap_fen):
        if not isinstance(amount, int) or isinstance(amount, bool) or not 0 <= amount <= 10**9:
            raise DomainError("invalid_amount", max=10**9)
    if kind == CouponKind.THRESHOLD and not 0 < value_fen <= threshold_fen:
        raise DomainError("coupon_value_invalid")
    if kind == CouponKind.FIXED and value_fen <= 0:
        raise DomainError("coupon_value_invalid")
    if kind == CouponKind.PERCENT and not 1 <= percent <= 99:
        raise DomainError("coupon_percent_invalid")
    if not 1 <= total_limit <= MAX_COUPONS or not 1 <= per_customer_limit <= 100:
        raise DomainError("coupon_counts_invalid", max=MAX_COUPONS)
    if not dt.timedelta(0) < valid_until - valid_from <= dt.timedelta(days=366):
        raise DomainError("invalid_date_range", max_days=366)
    if (
        service_id is not None
        and not Service.objects.filter(pk=service_id, merchant_id=merchant_id).exists()
    ):
        raise DomainError("not_found")
    with transaction.atomic():
        coupon = Coupon.objects.create(
            merchant_id=merchant_id,
            name=name,
            kind=kind,
            value_fen=value_fen if kind != CouponKind.PERCENT else 0,
            threshold_fen=threshold_fen if kind == CouponKind.THRESHOLD else 0,
            percent=percent if kind == CouponKind.PERCENT else 0,
            cap_fen=cap_fen if kind == CouponKind.PERCENT else 0,
            new_customers_only=bool(new_customers_only),
            service_id=service_id,
            valid_from=valid_from,
            valid_until=valid_until,
            total_limit=total_limit,
            per_customer_limit=per_customer_limit,
            public=bool(public),
        )
        audit(actor, "coupon.create", coupon)
    return coupon


def merchant_coupons(*, actor, merchant_id: int) -> list[Coupon]:
    """A merchant's coupons, newest first, each with how many were spent (`used`)."""
    from django.db.models import Count

    require_staff(actor, merchant_id, MANAGERS)
    return list(
        Coupon.objects.filter(merchant_id=merchant_id)
        .annotate(used=Count("claims", filter=Q(claims__used_on__isnull=False)))
        .order_by("-pk")
    )


def usable_claims(
    customer_id: int, booking: Booking, amount_fen: int | None = None
) -> list[tuple[CouponClaim, int]]:
    """The customer's claims that apply to the order now, each with what it takes off
    `amount_fen` (the price less the level discount), the best first (the pay page's list)."""
    amount_fen = booking.price_fen if amount_fen is None else amount_fen
    claims = (
        CouponClaim.objects.filter(customer_id=customer_id)
        .filter(Q(used_on__isnull=True) | Q(used_on=booking))  # held for this unpaid order
        .select_related("coupon")
    )
    usable = [
        (discount(c.coupon, amount_fen), -c.pk, c)
        for c in claims
        if applies(c.coupon, booking, amount_fen=amount_fen)
    ]
    return [(c, off) for off, _pk, c in sorted(usable, key=lambda u: u[:2], reverse=True)]


def best_claim(
    customer_id: int, booking: Booking, amount_fen: int | None = None
) -> CouponClaim | None:
    usable = usable_claims(customer_id, booking, amount_fen)
    return usable[0][0] if usable else None


def use_claim(claim: CouponClaim, booking: Booking, amount_fen: int | None = None) -> int:
    """Spend a claim on an order, once (inside the payment's transaction), on `amount_fen` (the
    price less the level discount). Returns the discount."""
    amount_fen = booking.price_fen if amount_fen is None else amount_fen
    if claim.customer_id != booking.customer_id or not applies(
        claim.coupon, booking, amount_fen=amount_fen
    ):
        raise DomainError("coupon_not_applicable")
    off = discount(claim.coupon, amount_fen)
    if not CouponClaim.objects.filter(pk=claim.pk, used_on__isnull=True).update(
        used_on=booking, discount_fen=off, used_at=timezone.now()
    ):
        raise DomainError("coupon_not_applicable")
    return off


def choose_claim(
    booking: Booking, coupon: str | int | None, amount_fen: int | None = None
) -> CouponClaim | None:
    """The claim to spend on an order: the customer's best ("auto") for `amount_fen`, a named
    one, or none."""
    if coupon == "auto":
        return best_claim(booking.customer_id, booking, amount_fen)
    if coupon is None:
        return None
    claim = (
        CouponClaim.objects.select_related("coupon")
        .filter(pk=coupon, customer_id=booking.customer_id)
        .first()
    )
    if claim is None or claim.used_on_id not in (None, booking.pk):
        raise DomainError("coupon_not_applicable")
    return claim


def release_claim(booking: Booking) -> int:
    """Give back a coupon held for an order that was not paid with it (the gateway payment was
    abandoned, the order expired or was cancelled unpaid). Returns how many were released."""
    if booking.payment_status in PAID_ONCE:
        return 0
    return CouponClaim.objects.filter(used_on=booking).update(
        used_on=None, used_at=None, discount_fen=0
    )
