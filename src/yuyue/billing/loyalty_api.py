"""Membership levels, points and stored-value plans as customers see them: their level and
points, a merchant's levels, the plans on offer, and what paying an order would take."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Router, Schema

from yuyue.accounts.auth import bearer

from . import loyalty
from .models import TopUpPlan
from .schemas import LevelOut, PlanOut

router = Router(tags=["loyalty"])


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
    return loyalty.points_summary(request.auth.pk)


@router.get("/topup-plans", response=list[PlanOut], auth=None)
def topup_plans(request):
    """Stored-value plans on offer; buy one with POST /api/payments {"plan_id": …}."""
    return list(TopUpPlan.objects.filter(active=True))


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
    short_fen: int = Field(
        ..., description="What the wallet lacks: more than 0, it cannot pay (top up first)."
    )


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
        "short_fen": c.short,
    }
