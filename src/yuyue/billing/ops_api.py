"""Billing API for operators: withdrawals to decide, refunds of part of an order, membership
levels and stored-value plans, refunds of top-ups."""

from __future__ import annotations

from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict

from yuyue.accounts.auth import operator_bearer
from yuyue.core.idempotency import checked_key, key_header
from yuyue.core.schemas import WORDS, Whole

from . import loyalty, topups
from .models import MembershipLevel, TopUpPlan
from .schemas import (
    LevelIn,
    LevelOut,
    LevelPatch,
    OpsWithdrawalOut,
    PlanOut,
    ops_withdrawal_out,
)

router = Router(tags=["operators"])


@router.get("/ops/withdrawals", response=list[OpsWithdrawalOut], auth=operator_bearer)
def pending_withdrawals(request):
    """Withdrawals waiting for a decision, oldest first, with who is asking."""
    from .models import Withdrawal

    waiting = Withdrawal.objects.filter(status="requested").select_related(
        "provider__user", "provider__merchant"
    )
    return [ops_withdrawal_out(w) for w in waiting.order_by("created_at")]


class DecisionIn(Schema):
    approve: bool
    reason: str = Field("", max_length=200)


@router.post(
    "/ops/withdrawals/{withdrawal_id}/decide", response=OpsWithdrawalOut, auth=operator_bearer
)
def decide_withdrawal(request, withdrawal_id: int, body: DecisionIn):
    from . import settlement

    if body.approve:
        w = settlement.approve_withdrawal(actor=request.auth, withdrawal_id=withdrawal_id)
    else:
        w = settlement.reject_withdrawal(
            actor=request.auth, withdrawal_id=withdrawal_id, reason=body.reason
        )
    return ops_withdrawal_out(w)


class RefundIn(Schema):
    amount_fen: Whole = Field()
    reason: str = Field("", max_length=200)


class RefundOut(Schema):
    id: int
    amount_fen: int
    reason: str
    gateway_refund_id: str


@router.post("/ops/bookings/{booking_id}/refunds", response={201: RefundOut}, auth=operator_bearer)
def refund_part(
    request,
    booking_id: int,
    body: RefundIn,
    idempotency_key: str = key_header(required=True),
):
    """An operator refunds (part of) an order's payment. The Idempotency-Key makes it once."""
    from yuyue.accounts.auth import require_operator

    from .refunds import refund

    require_operator(request.auth)
    r = refund(
        actor=request.auth,
        booking_id=booking_id,
        amount_fen=body.amount_fen,
        key=f"ops:{booking_id}:{checked_key(idempotency_key)}",
        reason=body.reason,
    )
    return Status(
        201,
        {
            "id": r.pk,
            "amount_fen": r.amount_fen,
            "reason": r.reason,
            "gateway_refund_id": r.gateway_refund_id,
        },
    )


@router.get("/ops/membership-levels", response=list[LevelOut], auth=operator_bearer)
def levels(request):
    """The platform's levels (spend everywhere counts)."""
    loyalty._require_operator(request.auth)
    return list(MembershipLevel.objects.filter(merchant__isnull=True))


@router.post("/ops/membership-levels", response={201: LevelOut}, auth=operator_bearer)
def create_level(request, body: LevelIn):
    return Status(201, loyalty.create_level(actor=request.auth, **body.dict()))


@router.patch("/ops/membership-levels/{level_id}", response=LevelOut, auth=operator_bearer)
def update_level(request, level_id: int, body: LevelPatch):
    return loyalty.update_level(actor=request.auth, level_id=level_id, **body.dict())


@router.delete("/ops/membership-levels/{level_id}", response={204: None}, auth=operator_bearer)
def delete_level(request, level_id: int):
    loyalty.delete_level(actor=request.auth, level_id=level_id)
    return Status(204, None)


class PlanIn(Schema):
    name: str = Field(..., max_length=100, pattern=WORDS)
    pay_fen: Whole = Field(...)
    bonus_fen: Whole = Field(0)


class PlanPatch(Schema):
    """Only the name and whether it is on offer: a plan's amounts never change."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=100, pattern=WORDS)
    active: bool | None = Field(None, strict=True)


class OpsPlanOut(PlanOut):
    active: bool


@router.get("/ops/topup-plans", response=list[OpsPlanOut], auth=operator_bearer)
def all_plans(request):
    """Every plan, retired ones too."""
    loyalty._require_operator(request.auth)
    return list(TopUpPlan.objects.all())


@router.post("/ops/topup-plans", response={201: PlanOut}, auth=operator_bearer)
def create_plan(request, body: PlanIn):
    return Status(201, topups.create_plan(actor=request.auth, **body.dict()))


@router.patch("/ops/topup-plans/{plan_id}", response=OpsPlanOut, auth=operator_bearer)
def update_plan(request, plan_id: int, body: PlanPatch):
    return topups.update_plan(actor=request.auth, plan_id=plan_id, **body.dict())


class TopUpRefundIn(Schema):
    amount_fen: Whole = Field(...)
    reason: str = Field("", max_length=200)


class TopUpRefundOut(Schema):
    id: int
    payment_id: int
    amount_fen: int
    reason: str
    gateway_refund_id: str


@router.post(
    "/ops/payments/{payment_id}/refunds", response={201: TopUpRefundOut}, auth=operator_bearer
)
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
