"""Billing API for operators: withdrawals to decide, refunds of part of an order."""

from __future__ import annotations

from ninja import Field, Router, Schema, Status

from yuyue.accounts.auth import bearer
from yuyue.core.idempotency import checked_key, key_header

from .schemas import WithdrawalOut, withdrawal_out

router = Router(tags=["operators"])


@router.get("/ops/withdrawals", response=list[WithdrawalOut], auth=bearer)
def pending_withdrawals(request):
    from yuyue.accounts.auth import require_operator

    from .models import Withdrawal

    require_operator(request.auth)
    return [
        withdrawal_out(w)
        for w in Withdrawal.objects.filter(status="requested").order_by("created_at")
    ]


class DecisionIn(Schema):
    approve: bool
    reason: str = Field("", max_length=200)


@router.post("/ops/withdrawals/{withdrawal_id}/decide", response=WithdrawalOut, auth=bearer)
def decide_withdrawal(request, withdrawal_id: int, body: DecisionIn):
    from . import settlement

    if body.approve:
        w = settlement.approve_withdrawal(actor=request.auth, withdrawal_id=withdrawal_id)
    else:
        w = settlement.reject_withdrawal(
            actor=request.auth, withdrawal_id=withdrawal_id, reason=body.reason
        )
    return withdrawal_out(w)


class RefundIn(Schema):
    amount_fen: int = Field(strict=True)
    reason: str = Field("", max_length=200)


class RefundOut(Schema):
    id: int
    amount_fen: int
    reason: str
    gateway_refund_id: str


@router.post("/ops/bookings/{booking_id}/refunds", response={201: RefundOut}, auth=bearer)
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
