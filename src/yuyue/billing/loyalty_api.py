"""Membership levels, points and stored-value plans: what customers see, what operators set."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from ninja import Field, Router, Schema, Status

from yuyue.accounts.auth import bearer

from . import loyalty
from .models import MembershipLevel, PointsEntry, TopUpPlan

router = Router(tags=["loyalty"])


class LevelOut(Schema):
    id: int
    name: str
    min_spend_fen: int
    discount_bp: int


class MembershipOut(Schema):
    spend_fen: int
    level: LevelOut | None
    next_level: LevelOut | None
    to_next_fen: int | None


@router.get("/me/membership", response=MembershipOut, auth=bearer)
def my_membership(request):
    """Your level from what you have paid for orders (less refunds), and how far the next is."""
    current, upcoming, spend = loyalty.level_of(request.auth.pk)
    return {
        "spend_fen": spend,
        "level": current,
        "next_level": upcoming,
        "to_next_fen": upcoming.min_spend_fen - spend if upcoming else None,
    }


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


@router.get("/ops/membership-levels", response=list[LevelOut], auth=bearer)
def levels(request):
    loyalty._require_operator(request.auth)
    return list(MembershipLevel.objects.all())


@router.post("/ops/membership-levels", response={201: LevelOut}, auth=bearer)
def create_level(request, body: LevelIn):
    return Status(201, loyalty.create_level(actor=request.auth, **body.dict()))


class PlanIn(Schema):
    name: str = Field(..., max_length=100)
    pay_fen: int = Field(..., strict=True)
    bonus_fen: int = Field(0, strict=True)


@router.post("/ops/topup-plans", response={201: PlanOut}, auth=bearer)
def create_plan(request, body: PlanIn):
    return Status(201, loyalty.create_plan(actor=request.auth, **body.dict()))
