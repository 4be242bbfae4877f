"""What the billing API's routers share."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema
from pydantic import ConfigDict

from yuyue.core.schemas import WORDS, Whole


class WithdrawalOut(Schema):
    id: int
    amount_fen: int
    status: str
    payout_id: str
    reason: str
    requested_at: dt.datetime
    decided_at: dt.datetime | None


def withdrawal_out(w) -> dict:
    return {
        "id": w.pk,
        "amount_fen": w.amount_fen,
        "status": w.status,
        "payout_id": w.payout_id,
        "reason": w.reason,
        "requested_at": w.created_at,
        "decided_at": w.decided_at,
    }


class AskerOut(Schema):
    provider_id: int
    name: str
    phone: str = Field(description="Masked.")
    merchant_id: int | None
    merchant_name: str


class OpsWithdrawalOut(WithdrawalOut):
    """A withdrawal as operators decide on it: who is asking."""

    asker: AskerOut


def ops_withdrawal_out(w) -> dict:
    provider = w.provider
    return {
        **withdrawal_out(w),
        "asker": {
            "provider_id": provider.pk,
            "name": provider.display_name,
            "phone": provider.user.masked_phone,
            "merchant_id": provider.merchant_id,
            "merchant_name": provider.merchant.name if provider.merchant_id else "",
        },
    }


class LevelOut(Schema):
    id: int
    merchant_id: int | None
    name: str
    min_spend_fen: int
    discount_bp: int


class PlanOut(Schema):
    id: int
    name: str
    pay_fen: int
    bonus_fen: int


class LevelIn(Schema):
    name: str = Field(..., max_length=60, pattern=WORDS)
    min_spend_fen: Whole = Field(...)
    discount_bp: Whole = Field(...)


class LevelPatch(Schema):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(None, max_length=60, pattern=WORDS)
    min_spend_fen: Whole | None = Field(None)
    discount_bp: Whole | None = Field(None)
