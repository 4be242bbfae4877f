"""Billing API: the wallet, paying orders, top-ups, and the gateways' notify URLs."""

from __future__ import annotations

from ninja import Field, Router, Schema, Status

from yuyue.accounts.auth import bearer
from yuyue.core.errors import DomainError

from . import payments
from .models import Payment

router = Router(tags=["payments"])


class WalletOut(Schema):
    balance_fen: int
    held_fen: int
    available_fen: int


@router.get("/wallet", response=WalletOut, auth=bearer)
def my_wallet(request):
    acc = payments.wallet(request.auth.pk)
    return {"balance_fen": acc.balance, "held_fen": acc.held, "available_fen": acc.available}


class PaidOut(Schema):
    booking_id: int
    status: str
    payment_status: str


@router.post("/bookings/{booking_id}/pay/wallet", response=PaidOut, auth=bearer)
def pay_with_wallet(request, booking_id: int):
    """Pay an order from your wallet balance."""
    b = payments.pay_with_wallet(actor=request.auth, booking_id=booking_id)
    return {"booking_id": b.pk, "status": b.status, "payment_status": b.payment_status}


class PaymentIn(Schema):
    booking_id: int | None = None
    top_up_fen: int | None = Field(None, strict=True)
    gateway: str = Field("sandbox", pattern="^(sandbox|wechat|alipay)$")


class PaymentOut(Schema):
    out_trade_no: str
    amount_fen: int
    params: dict


@router.post("/payments", response={201: PaymentOut}, auth=bearer)
def create_payment(request, body: PaymentIn):
    """Start paying an order (booking_id) or topping up the wallet (top_up_fen)."""
    if (body.booking_id is None) == (body.top_up_fen is None):
        raise DomainError("invalid_input", "Give a booking_id or a top_up_fen.")
    payment, params = payments.start_gateway_payment(
        actor=request.auth,
        booking_id=body.booking_id,
        top_up_fen=body.top_up_fen,
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
    return {"code": "SUCCESS", "result": result}
