"""Billing API for providers: earnings, statements, withdrawals."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Router, Schema

from yuyue.accounts.auth import bearer
from yuyue.core.errors import DomainError
from yuyue.core.idempotency import created_once, key_header
from yuyue.core.schemas import Whole

from .schemas import WithdrawalOut, withdrawal_out

router = Router(tags=["provider"])


class EarningsOut(Schema):
    frozen_fen: int
    available_fen: int
    withdrawing_fen: int


def _provider(request):
    provider = (
        getattr(request.auth, "provider", None) if hasattr(request.auth, "provider") else None
    )
    if provider is None:
        raise DomainError("forbidden")
    return provider


@router.get("/provider/earnings", response=EarningsOut, auth=bearer)
def my_earnings(request):
    from .settlement import earnings

    return earnings(_provider(request))


class StatementLine(Schema):
    at: dt.datetime
    kind: str
    bucket: str
    booking_id: int | None
    amount_fen: int
    frozen_after_fen: int
    available_after_fen: int


class StatementOut(Schema):
    opening_frozen_fen: int
    opening_available_fen: int
    closing_frozen_fen: int
    closing_available_fen: int
    lines: list[StatementLine]


@router.get("/provider/statement", response=StatementOut, auth=bearer)
def my_statement(request, date_from: dt.date | None = None, date_to: dt.date | None = None):
    """Every posting to your earnings in the period (platform days), newest first, with the
    balances after each; opening and closing balances."""
    from .settlement import statement

    return statement(_provider(request), date_from=date_from, date_to=date_to)


class WithdrawalIn(Schema):
    amount_fen: Whole = Field()


@router.post("/provider/withdrawals", response={201: WithdrawalOut}, auth=bearer)
def request_withdrawal(request, body: WithdrawalIn, idempotency_key: str | None = key_header()):
    """Take earnings out: the amount is held until an operator pays it out or refuses. Send an
    Idempotency-Key so that a retry after a lost answer does not hold the amount twice."""
    from .settlement import request_withdrawal as request_

    return created_once(
        request,
        body,
        idempotency_key,
        scope="withdrawal",
        create=lambda: withdrawal_out(request_(actor=request.auth, amount_fen=body.amount_fen)),
        schema=WithdrawalOut,
    )


@router.get("/provider/withdrawals", response=list[WithdrawalOut], auth=bearer)
def my_withdrawals(request):
    from .models import Withdrawal

    return [
        withdrawal_out(w)
        for w in Withdrawal.objects.filter(provider=_provider(request)).order_by("-created_at")[
            :100
        ]
    ]
