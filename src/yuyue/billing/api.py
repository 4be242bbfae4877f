"""Billing API for customers: the wallet, paying orders, top-ups, coupons, and the gateways'
notify URLs."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from ninja import Field, Router, Schema, Status

from yuyue.accounts.auth import bearer
from yuyue.core.errors import DomainError
from yuyue.core.schemas import Whole

from . import packages, payments
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
    points: Whole = Field(0, description="Points to redeem: 1 point = 1 fen.")


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


class PackagePaidOut(Schema):
    series_id: int
    amount_fen: int
    paid: list[PaidOut]


@router.post("/series/{series_id}/pay/wallet", response=PackagePaidOut, auth=bearer)
def pay_package_with_wallet(request, series_id: int):
    """Pay a package (monthly package 包月) as one, from your wallet: every unpaid date at once,
    or none if the balance is short."""
    paid = packages.pay_package_with_wallet(actor=request.auth, series_id=series_id)
    return {
        "series_id": series_id,
        "amount_fen": sum(p.amount_fen for b in paid for p in b.payments.all()),
        "paid": [
            {"booking_id": b.pk, "status": b.status, "payment_status": b.payment_status}
            for b in paid
        ],
    }


class PaymentIn(Schema):
    booking_id: int | None = None
    series_id: int | None = Field(None, description="Pay every unpaid date of a package as one.")
    top_up_fen: Whole | None = Field(None)
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
    """Start paying an order (booking_id), a package as one (series_id), topping up the wallet
    (top_up_fen) or buying a stored-value plan (plan_id)."""
    given = [
        x is not None for x in (body.booking_id, body.series_id, body.top_up_fen, body.plan_id)
    ]
    if sum(given) != 1:
        raise DomainError(
            "invalid_input", "Give one of booking_id, series_id, top_up_fen or plan_id."
        )
    if body.series_id is not None:
        payment, params = packages.start_package_payment(
            actor=request.auth, series_id=body.series_id, gateway=body.gateway
        )
        return Status(
            201,
            {
                "out_trade_no": payment.out_trade_no,
                "amount_fen": payment.amount_fen,
                "params": params,
            },
        )
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
    from .coupons import claimable

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
        for c in claimable()
    ]


@router.post("/coupons/{coupon_id}/claim", response={201: dict}, auth=bearer)
def claim(request, coupon_id: int):
    from .coupons import claim_coupon

    c = claim_coupon(actor=request.auth, coupon_id=coupon_id)
    return Status(201, {"claim_id": c.pk, "coupon_id": c.coupon_id})
