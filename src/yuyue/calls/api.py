"""Calls over HTTP: the record for both sides and operators, hanging up, operators' refunds.

The live part of a call (joining, heartbeats, WebRTC signalling, the meter) is the websocket
`ws/calls/<booking_id>/` (see consumers.py); these endpoints serve the record and the actions a
client may also take without a socket."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Router, Schema

from yuyue.accounts.auth import bearer, operator_bearer
from yuyue.core.idempotency import checked_key, key_header
from yuyue.core.schemas import Whole

from . import records, services

router = Router(tags=["calls"])


class CallEventOut(Schema):
    at: dt.datetime
    party: str
    kind: str
    detail: dict


class CallOut(Schema):
    booking_id: int
    status: str
    customer_present: bool
    consultant_present: bool
    elapsed_seconds: int
    cost_fen: int
    seconds_left: int
    booked_seconds: int
    rate_fen: int
    billing: str
    grace_seconds: int
    hold_fen: int
    blocked: str
    end_reason: str
    charged_fen: int | None
    metered_seconds: int | None
    refunded_fen: int = 0
    first_live_at: dt.datetime | None = None
    ended_at: dt.datetime | None = None
    rules: dict = {}
    events: list[CallEventOut] = []


@router.get("/calls/{booking_id}", response=CallOut, auth=bearer)
def call_record(request, booking_id: int):
    """The call's record: each side's joins, leaves and audio changes, the metered seconds, the
    rule applied and the price. For the booking's two sides and operators."""
    return records.record(actor=request.auth, booking_id=booking_id)


@router.post("/calls/{booking_id}/hangup", response=CallOut, auth=bearer)
def hang_up(request, booking_id: int):
    """End the call (safe to repeat: it is billed once)."""
    services.hangup(actor=request.auth, booking_id=booking_id)
    return records.record(actor=request.auth, booking_id=booking_id)


class CallRefundIn(Schema):
    amount_fen: Whole = Field(...)
    reason: str = Field(..., max_length=200)


class CallRefundOut(Schema):
    refund_id: int
    amount_fen: int
    refunded_fen: int


@router.post("/ops/calls/{booking_id}/refund", response=CallRefundOut, auth=operator_bearer)
def refund_call(
    request,
    booking_id: int,
    body: CallRefundIn,
    idempotency_key: str = key_header(required=True),
):
    """An operator gives back part of a call's price to the customer's wallet, once per key."""
    return records.refund_call(
        actor=request.auth,
        booking_id=booking_id,
        amount_fen=body.amount_fen,
        key=f"call:{booking_id}:{checked_key(idempotency_key)}",
        reason=body.reason,
    )
