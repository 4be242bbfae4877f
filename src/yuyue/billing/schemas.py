"""What the billing API's routers share."""

from __future__ import annotations

from ninja import Schema


class WithdrawalOut(Schema):
    id: int
    amount_fen: int
    status: str
    payout_id: str
    reason: str


def withdrawal_out(w) -> dict:
    return {
        "id": w.pk,
        "amount_fen": w.amount_fen,
        "status": w.status,
        "payout_id": w.payout_id,
        "reason": w.reason,
    }
