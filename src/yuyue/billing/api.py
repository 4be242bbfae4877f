"""Billing API: the wallet, paying orders, top-ups, and the gateways' notify URLs."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from ninja import Field, Router, Schema, Status

from yuyue.accounts.auth import bearer
from yuyue.core.errors import DomainError
from yuyue.core.idempotency import checked_key, created_once, key_header

from . import payments
from .models import Payment

router = Router(tags=["payments"])


class WalletOut(Schema):
    balance_fen: int
    held_fen: int
    available_fen: int
    bonus_fen: int  # from stored-value plans: spent after cash, never paid out


@router.get("/wallet", response=WalletOut, auth=bearer)
def my_wallet(request):
    from .loyalty import bonus_account

    acc = payments.wallet(request.auth.pk)
    return {
        "balance_fen": acc.balance,
        "held_fen": acc.held,
        "available_fen": acc.available,
        "bonus_fen": bonus_account(request.auth.pk).available,
    }


class PaidOut(Schema):
    booking_id: int
    status: str
    payment_status: str


class WalletPayIn(Schema):
    coupon_claim_id: int | None = None
    no_coupon: bool = False
    points: int = Field(0, strict=True, description="Points to redeem: 1 point = 1 fen.")


@router.post("/bookings/{booking_id}/pay/wallet", response=PaidOut, auth=bearer)
def pay_with_wallet(request, booking_id: int, body: WalletPayIn | None = None):
    """Pay an order from your wallet balance. Your best coupon is used unless you name another
    (coupon_claim_id) or say no_coupon."""
    body = body or WalletPayIn()
    coupon = None if body.no_coupon else (body.coupon_claim_id or "auto")
    b = payments.pay_with_wallet(
        actor=request.auth, booking_id=booking_id, coupon=coupon, points=body.points
    )
    return {"booking_id": b.pk, "status": b.status, "payment_status": b.payment_status}


class PaymentIn(Schema):
    booking_id: int | None = None
    top_up_fen: int | None = Field(None, strict=True)
    plan_id: int | None = Field(None, description="Buy a stored-value plan.")
    coupon_claim_id: int | None = None
    no_coupon: bool = False
    gateway: str = Field("sandbox", pattern="^(sandbox|wechat|alipay)$")


class PaymentOut(Schema):
    out_trade_no: str
    amount_fen: int
    params: dict


@router.post("/payments", response={201: PaymentOut}, auth=bearer)
def create_payment(request, body: PaymentIn):
    """Start paying an order (booking_id), topping up the wallet (top_up_fen) or buying a
    stored-value plan (plan_id)."""
    given = [x is not None for x in (body.booking_id, body.top_up_fen, body.plan_id)]
    if sum(given) != 1:
        raise DomainError("invalid_input", "Give one of booking_id, top_up_fen or plan_id.")
    payment, params = payments.start_gateway_payment(
        actor=request.auth,
        booking_id=body.booking_id,
        top_up_fen=body.top_up_fen,
        plan_id=body.plan_id,
        coupon=None if body.no_coupon else (body.coupon_claim_id or "auto"),
        gateway=body.gateway,
    )
    return Status(
        201,
        {"out_trade_no": payment.out_trade_no, "amount_fen": payment.amount_fen, "params": params},
    )


class CheckoutIn(Schema):
    decline: bool = False


@router.post("/payments/sandbox/checkout/{out_trade_no}", response={202: dict}, auth=bearer)
def sandbox_checkout(request, out_trade_no: str, body: CheckoutIn):
    """The sandbox's payment page: 'pay', and the sandbox notifies us like a real gateway."""
    from .tasks import sandbox_notify

    payment = Payment.objects.filter(
        out_trade_no=out_trade_no, customer=request.auth, gateway="sandbox"
    ).first()
    if payment is None:
        raise DomainError("not_found")
    sandbox_notify.enqueue(out_trade_no, decline=body.decline)
    return Status(202, {"queued": True})


@router.post("/payments/notify/{gateway}", auth=None)
def notify(request, gateway: str):
    """Where a gateway tells us a payment's outcome (signed; safe to repeat)."""
    result = payments.apply_notification(
        gateway=gateway, headers=dict(request.headers), body=request.body
    )
    if gateway == "alipay":  # Alipay stops retrying only on the plain word
        return HttpResponse("success", content_type="text/plain")
    return {"code": "SUCCESS", "result": result}


# --- earnings and withdrawals ------------------------------------------------------------------


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
    amount_fen: int = Field(strict=True)


class WithdrawalOut(Schema):
    id: int
    amount_fen: int
    status: str
    payout_id: str
    reason: str


def _w(w) -> dict:
    return {
        "id": w.pk,
        "amount_fen": w.amount_fen,
        "status": w.status,
        "payout_id": w.payout_id,
        "reason": w.reason,
    }


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
        create=lambda: _w(request_(actor=request.auth, amount_fen=body.amount_fen)),
        schema=WithdrawalOut,
    )


@router.get("/provider/withdrawals", response=list[WithdrawalOut], auth=bearer)
def my_withdrawals(request):
    from .models import Withdrawal

    return [
        _w(w)
        for w in Withdrawal.objects.filter(provider=_provider(request)).order_by("-created_at")[
            :100
        ]
    ]


@router.get("/ops/withdrawals", response=list[WithdrawalOut], auth=bearer)
def pending_withdrawals(request):
    from yuyue.accounts.auth import require_operator

    from .models import Withdrawal

    require_operator(request.auth)
    return [_w(w) for w in Withdrawal.objects.filter(status="requested").order_by("created_at")]


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
    return _w(w)


# --- refunds ---------------------------------------------------------------------------------


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


# --- coupons ---------------------------------------------------------------------------------


class CouponOut(Schema):
    id: int
    name: str
    kind: str
    threshold_fen: int
    value_fen: int
    percent: int
    cap_fen: int
    valid_until: dt.datetime
    left: int


@router.get("/coupons", response=list[CouponOut], auth=None)
def claim_centre(request):
    """The claim centre: coupons valid now that are not all claimed."""
    from django.db.models import F
    from django.utils import timezone

    from .models import Coupon

    now = timezone.now()
    qs = Coupon.objects.filter(
        valid_from__lte=now, valid_until__gt=now, claimed__lt=F("total_limit")
    ).order_by("valid_until")
    return [
        {
            **{
                f: getattr(c, f)
                for f in (
                    "id",
                    "name",
                    "kind",
                    "threshold_fen",
                    "value_fen",
                    "percent",
                    "cap_fen",
                    "valid_until",
                )
            },
            "left": c.total_limit - c.claimed,
        }
        for c in qs[:200]
    ]


@router.post("/coupons/{coupon_id}/claim", response={201: dict}, auth=bearer)
def claim(request, coupon_id: int):
    from .coupons import claim_coupon

    c = claim_coupon(actor=request.auth, coupon_id=coupon_id)
    return Status(201, {"claim_id": c.pk, "coupon_id": c.coupon_id})


# --- quotes ----------------------------------------------------------------------------------


class QuoteIn(Schema):
    service_id: int
    starts_at: dt.datetime
    quantity: int = Field(1, strict=True)
    options: dict = {}
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)


class QuoteOut(Schema):
    id: int
    total_fen: int
    breakdown: list[dict]
    expires_at: dt.datetime


@router.post("/quotes", response={201: QuoteOut}, auth=None)
def quote(request, body: QuoteIn):
    """A price with its breakdown, valid for a few minutes."""
    from yuyue.pricing.prices import make_quote

    user = request.user if request.user.is_authenticated else None
    q = make_quote(actor=user, **body.dict())
    return Status(
        201,
        {
            "id": q.pk,
            "total_fen": q.total_fen,
            "breakdown": q.breakdown,
            "expires_at": q.expires_at,
        },
    )


# --- price lists -------------------------------------------------------------------------------


class PriceItemIn(Schema):
    service_id: int
    unit_price_fen: int = Field(..., strict=True)


class PriceListIn(Schema):
    name: str = Field(..., max_length=100)
    valid_from: dt.date
    valid_until: dt.date | None = None
    items: list[PriceItemIn] = Field(..., max_length=500)


class PriceItemOut(Schema):
    service_id: int
    unit_price_fen: int


class PriceListOut(Schema):
    id: int
    name: str
    valid_from: dt.date
    valid_until: dt.date | None
    active: bool
    items: list[PriceItemOut]


def _price_list_out(price_list) -> dict:
    return {
        "id": price_list.pk,
        "name": price_list.name,
        "valid_from": price_list.valid_from,
        "valid_until": price_list.valid_until,
        "active": price_list.active,
        "items": list(price_list.items.values("service_id", "unit_price_fen")),
    }


@router.post("/merchants/{merchant_id}/price-lists", response={201: PriceListOut}, auth=bearer)
def create_price_list(request, merchant_id: int, body: PriceListIn):
    """Prices for a period (owners and managers): while valid, they replace the services' base
    prices in quotes and new orders; the newest valid list wins."""
    from yuyue.pricing.prices import create_price_list as create

    price_list = create(
        actor=request.auth,
        merchant_id=merchant_id,
        name=body.name,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        items=[i.dict() for i in body.items],
    )
    return Status(201, _price_list_out(price_list))


@router.get("/merchants/{merchant_id}/price-lists", response=list[PriceListOut], auth=bearer)
def price_lists(request, merchant_id: int):
    from yuyue.accounts.auth import MANAGERS, require_staff
    from yuyue.pricing.models import PriceList

    require_staff(request.auth, merchant_id, MANAGERS)
    return [_price_list_out(p) for p in PriceList.objects.filter(merchant_id=merchant_id)]
