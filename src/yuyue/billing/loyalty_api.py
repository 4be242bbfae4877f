"""Membership levels, points and stored-value plans: what customers see (their level and
progress, their points and what expires soon, the plans on offer, the price of paying an order
now), what operators set (the platform's levels, plans, refunds of top-ups) and what a merchant's
owners and managers set (their own levels)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from yuyue.accounts.auth import bearer
from yuyue.core.idempotency import checked_key, key_header

from . import loyalty, topups
from .models import MembershipLevel, PointsEntry, TopUpPlan

router = Router(tags=["loyalty"])


class LevelOut(Schema):
    id: int
    merchant_id: int | None
    name: str
    min_spend_fen: int
    discount_bp: int


class LadderOut(Schema):
    spend_fen: int
    level: LevelOut | None
    next_level: LevelOut | None
    to_next_fen: int | None


class MembershipOut(LadderOut):
    merchant: LadderOut | None = Field(
        None, description="At the merchant named by ?merchant_id=, its own levels."
    )


def _ladder(customer_id: int, merchant_id: int | None) -> dict:
    current, upcoming, spend = loyalty.level_of(customer_id, merchant_id)
    return {
        "spend_fen": spend,
        "level": current,
        "next_level": upcoming,
        "to_next_fen": upcoming.min_spend_fen - spend if upcoming else None,
    }


@router.get("/me/membership", response=MembershipOut, auth=bearer)
def my_membership(request, merchant_id: int | None = None):
    """Your platform level from what you have paid for orders (less refunds) and how far the next
    is; with merchant_id, also your level on that merchant's own ladder (spend there only). An
    order gets the better of the two discounts."""
    out = _ladder(request.auth.pk, None)
    out["merchant"] = _ladder(request.auth.pk, merchant_id) if merchant_id is not None else None
    return out


class PointsEntryOut(Schema):
    kind: str
    delta: int
    remaining: int
    expires_at: dt.datetime | None
    booking_id: int | None
    created_at: dt.datetime


class PointsOut(Schema):
    balance: int
    expiring_in_30_days: int
    entries: list[PointsEntryOut]


@router.get("/me/points", response=PointsOut, auth=bearer)
def my_points(request):
    """Your points (1 point = 1 fen at payment), what expires within 30 days, the latest moves."""
    now = timezone.now()
    soon = PointsEntry.objects.filter(
        customer=request.auth,
        remaining__gt=0,
        expires_at__gt=now,
        expires_at__lte=now + dt.timedelta(days=30),
    ).values_list("remaining", flat=True)
    return {
        "balance": loyalty.points_balance(request.auth.pk, now),
        "expiring_in_30_days": sum(soon),
        "entries": list(PointsEntry.objects.filter(customer=request.auth).order_by("-id")[:50]),
    }


class PlanOut(Schema):
    id: int
    name: str
    pay_fen: int
    bonus_fen: int


@router.get("/topup-plans", response=list[PlanOut], auth=None)
def topup_plans(request):
    """Stored-value plans on offer; buy one with POST /api/payments {"plan_id": …}."""
    return list(TopUpPlan.objects.filter(active=True))


class LevelIn(Schema):
    name: str = Field(..., max_length=60)
    min_spend_fen: int = Field(..., strict=True)
    discount_bp: int = Field(..., strict=True)


class LevelPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=60)
    min_spend_fen: int | None = Field(None, strict=True)
    discount_bp: int | None = Field(None, strict=True)


@router.get("/ops/membership-levels", response=list[LevelOut], auth=bearer)
def levels(request):
    """The platform's levels (spend everywhere counts)."""
    loyalty._require_operator(request.auth)
    return list(MembershipLevel.objects.filter(merchant__isnull=True))


@router.post("/ops/membership-levels", response={201: LevelOut}, auth=bearer)
def create_level(request, body: LevelIn):
    return Status(201, loyalty.create_level(actor=request.auth, **body.dict()))


@router.patch("/ops/membership-levels/{level_id}", response=LevelOut, auth=bearer)
def update_level(request, level_id: int, body: LevelPatch):
    return loyalty.update_level(actor=request.auth, level_id=level_id, **body.dict())


@router.delete("/ops/membership-levels/{level_id}", response={204: None}, auth=bearer)
def delete_level(request, level_id: int):
    loyalty.delete_level(actor=request.auth, level_id=level_id)
    return Status(204, None)


@router.get("/merchants/{merchant_id}/membership-levels", response=list[LevelOut], auth=None)
def merchant_levels(request, merchant_id: int):
    """A merchant's own levels (spend at that merchant counts; its orders get the discount)."""
    return list(MembershipLevel.objects.filter(merchant_id=merchant_id))


@router.post("/merchants/{merchant_id}/membership-levels", response={201: LevelOut}, auth=bearer)
def create_merchant_level(request, merchant_id: int, body: LevelIn):
    """Owners and managers add a level to their merchant's ladder."""
    level = loyalty.create_level(actor=request.auth, merchant_id=merchant_id, **body.dict())
    return Status(201, level)


@router.patch(
    "/merchants/{merchant_id}/membership-levels/{level_id}", response=LevelOut, auth=bearer
)
def update_merchant_level(request, merchant_id: int, level_id: int, body: LevelPatch):
    return loyalty.update_level(
        actor=request.auth, merchant_id=merchant_id, level_id=level_id, **body.dict()
    )


@router.delete(
    "/merchants/{merchant_id}/membership-levels/{level_id}", response={204: None}, auth=bearer
)
def delete_merchant_level(request, merchant_id: int, level_id: int):
    loyalty.delete_level(actor=request.auth, merchant_id=merchant_id, level_id=level_id)
    return Status(204, None)


# --- stored-value plans -------------------------------------------------------------------------


class PlanIn(Schema):
    name: str = Field(..., max_length=100)
    pay_fen: int = Field(..., strict=True)
    bonus_fen: int = Field(0, strict=True)


class PlanPatch(Schema):
    """Only the name and whether it is on offer: a plan's amounts never change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=100)
    active: bool | None = Field(None, strict=True)


class OpsPlanOut(PlanOut):
    active: bool


@router.get("/ops/topup-plans", response=list[OpsPlanOut], auth=bearer)
def all_plans(request):
    """Every plan, retired ones too."""
    loyalty._require_operator(request.auth)
    return list(TopUpPlan.objects.all())


@router.post("/ops/topup-plans", response={201: PlanOut}, auth=bearer)
def create_plan(request, body: PlanIn):
    return Status(201, topups.create_plan(actor=request.auth, **body.dict()))


@router.patch("/ops/topup-plans/{plan_id}", response=OpsPlanOut, auth=bearer)
def update_plan(request, plan_id: int, body: PlanPatch):
    return topups.update_plan(actor=request.auth, plan_id=plan_id, **body.dict())


class TopUpRefundIn(Schema):
    amount_fen: int = Field(..., strict=True)
    reason: str = Field("", max_length=200)


class TopUpRefundOut(Schema):
    id: int
    payment_id: int
    amount_fen: int
    reason: str
    gateway_refund_id: str


@router.post("/ops/payments/{payment_id}/refunds", response={201: TopUpRefundOut}, auth=bearer)
def refund_top_up(
    request,
    payment_id: int,
    body: TopUpRefundIn,
    idempotency_key: str = key_header(required=True),
):
    """An operator gives back (part of) a top-up or plan to where it was paid from, out of the
    cash the customer still has; the plan's bonus goes back with it, never paid out. Once per
    Idempotency-Key."""
    loyalty._require_operator(request.auth)
    key = f"ops-topup:{payment_id}:{checked_key(idempotency_key)}"
    return Status(
        201,
        topups.refund_top_up(
            actor=request.auth,
            payment_id=payment_id,
            amount_fen=body.amount_fen,
            key=key,
            reason=body.reason,
        ),
    )


# --- the price of paying an order now -----------------------------------------------------------


class PreviewOut(Schema):
    price_fen: int
    level: LevelOut | None
    level_discount_fen: int
    coupon_claim_id: int | None
    coupon_discount_fen: int
    points: int = Field(..., description="Points spent (1 point = 1 fen).")
    points_balance: int
    points_max: int = Field(..., description="The most points this order can take.")
    due_fen: int
    from_cash_fen: int
    from_bonus_fen: int


@router.get("/bookings/{booking_id}/pay/preview", response=PreviewOut, auth=bearer)
def pay_preview(
    request,
    booking_id: int,
    points: int = 0,
    coupon_claim_id: int | None = None,
    no_coupon: bool = False,
):
    """What paying this order from the wallet now would take, computed exactly as the payment
    does: level discount, then the coupon on the rest, then points; cash before bonus. A gateway
    payment takes the same without points."""
    from django.conf import settings

    from .checkout import compute
    from .payments import _payable

    booking = _payable(request.auth, booking_id)
    c = compute(booking, coupon=None if no_coupon else (coupon_claim_id or "auto"), points=points)
    balance = loyalty.points_balance(request.auth.pk)
    cap = c.price_fen * settings.YUYUE_POINTS_MAX_PERCENT // 100
    return {
        "price_fen": c.price_fen,
        "level": c.level,
        "level_discount_fen": c.level_fen,
        "coupon_claim_id": c.claim.pk if c.claim else None,
        "coupon_discount_fen": c.coupon_fen,
        "points": c.points,
        "points_balance": balance,
        "points_max": min(balance, cap, c.price_fen - c.level_fen - c.coupon_fen),
        "due_fen": c.due_fen,
        "from_cash_fen": c.from_cash,
        "from_bonus_fen": c.from_bonus,
    }
