"""Paying: orders from the wallet or through a gateway, wallet top-ups, gateway notifications.

A gateway is never called while a lock is held. A notification may arrive twice, late or out of
order: each is stored once by its id, the payment moves created → paid by a conditional UPDATE,
and the ledger posting carries the payment's key, so money is credited exactly once.
"""

from __future__ import annotations

import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from yuyue.core.audit import audit
from yuyue.core.errors import DomainError
from yuyue.core.metrics import count
from yuyue.orders.models import Booking, BookingStatus
from yuyue.orders.models import PaymentStatus as OrderPayment
from yuyue.orders.services import confirm_payment

from . import ledger
from .gateways import Notification, get_gateway
from .metrics import PAID_FEN, PAYMENTS
from .models import (
    AccountKind,
    Entry,
    GatewayNotification,
    Payment,
    PaymentPurpose,
    PaymentStatus,
)

MAX_TOP_UP = 5_000_000  # ¥50,000


def wallet(customer_id: int):
    return ledger.account(AccountKind.CUSTOMER_CASH, "user", customer_id)


def wallet_history(customer_id: int, limit: int = 50) -> list[dict]:
    """The latest moves of a customer's wallet and bonus, from the ledger, newest first:
    [{at, kind, amount (signed fen), bonus (bool), booking_id, memo}]."""
    from .loyalty import bonus_account

    accounts = {wallet(customer_id).pk: False, bonus_account(customer_id).pk: True}
    rows = (
        Entry.objects.filter(account_id__in=list(accounts))
        .select_related("transfer")
        .order_by("-transfer__created_at", "-id")[:limit]
    )
    return [
        {
            "at": e.transfer.created_at,
            "kind": e.transfer.kind,
            "amount": e.amount,
            "bonus": accounts[e.account_id],
            "booking_id": e.transfer.booking_id,
            "memo": e.transfer.memo,
        }
        for e in rows
    ]


def _payable(actor, booking_id: int, *, lock: bool = False, package: bool = False) -> Booking:
    """The actor's order, if it can be paid now. With `lock` (inside a transaction), its row is
    locked first (the lock order's first step) and read as it is after any payment that held
    it: of simultaneous payments one goes through, the others are `nothing_to_pay`. A date of
    a package is paid only with its package (`package`)."""
    orders = Booking.objects.filter(pk=booking_id, customer_id=getattr(actor, "pk", None))
    booking = (orders.select_for_update() if lock else orders).first()
    if booking is None:
        raise DomainError("not_found")
    if booking.series_id and not package and booking.price_fen > 0:
        raise DomainError("pay_whole_package")
    if (
        booking.status != BookingStatus.AWAITING_PAYMENT
        or booking.payment_status != OrderPayment.UNPAID
    ):
        raise DomainError("nothing_to_pay")
    if booking.pay_before and booking.pay_before <= timezone.now():
        raise DomainError("payment_window_closed")
    return booking


def _new_payment(**fields) -> Payment:
    return Payment.objects.create(out_trade_no="yy" + secrets.token_hex(12), **fields)


def pay_with_wallet(
    *, actor, booking_id: int, coupon: str | int | None = "auto", points: int = 0
) -> Booking:
    """Pay an order from the wallet at once; refused if the balance is short. The discounts come
    off as `checkout.compute` says (level, then the best coupon the customer holds unless
    `coupon` names another claim or is None, then up to `points` points); cash is spent before
    bonus. Every discount is the promotion's expense: escrow always receives the full price."""
    _payable(actor, booking_id)
    with transaction.atomic():
        booking = _payable(actor, booking_id, lock=True)
        booking, c = _wallet_payment(actor, booking, coupon=coupon, points=points)
        count(PAYMENTS, gateway="wallet", outcome="paid")
        count(PAID_FEN, c.due_fen, gateway="wallet")
        audit(
            actor,
            "payment.wallet",
            booking,
            amount=c.due_fen,
            discount=c.discount_fen,
            level=c.level_fen,
            coupon=c.coupon_fen,
            points=c.points,
            bonus=c.from_bonus,
        )
    return booking


def _wallet_payment(actor, booking: Booking, *, coupon, points: int):
    """One order paid from the wallet, inside the caller's transaction, its row locked."""
    from . import loyalty
    from .checkout import compute
    from .coupons import release_claim, use_claim

    release_claim(booking)  # held by an abandoned gateway payment: choose afresh
    c = compute(booking, coupon=coupon, points=points)
    if c.short:
        raise DomainError("insufficient_funds")
    if c.claim is not None:
        use_claim(c.claim, booking, c.price_fen - c.level_fen)
    loyalty.spend_points(customer_id=booking.customer_id, booking=booking, points=c.points)
    price, off, due = c.price_fen, c.discount_fen, c.due_fen
    from_cash, from_bonus = c.from_cash, c.from_bonus
    payment = _new_payment(
        purpose=PaymentPurpose.ORDER,
        customer_id=booking.customer_id,
        booking=booking,
        gateway="wallet",
        amount_fen=due,
        bonus_fen=from_bonus,
        status=PaymentStatus.PAID,
        paid_at=timezone.now(),
    )
    legs = [(ledger.account(AccountKind.ORDER_ESCROW), price)]
    if from_cash:
        legs.append((wallet(booking.customer_id), -from_cash))
    if from_bonus:
        legs.append((loyalty.bonus_account(booking.customer_id), -from_bonus))
    if off:
        legs.append((ledger.account(AccountKind.PROMOTION_EXPENSE), -off))
    ledger.post_transfer(
        key=f"order:{booking.pk}:paid", kind="order_payment", booking=booking, legs=legs
    )
    loyalty.earn_points(payment)
    booking = confirm_payment(booking_id=booking.pk, reference=payment.out_trade_no)
    return booking, c


def start_gateway_payment(
    *,
    actor,
    booking_id: int | None = None,
    top_up_fen: int | None = None,
    plan_id: int | None = None,
    gateway: str = "sandbox",
    coupon: str | int | None = "auto",
) -> tuple[Payment, dict]:
    """Create a payment for an order (less the customer's level discount and a coupon, held for
    the order until it is paid, expires or is paid another way), a top-up, or a stored-value
    plan; returns what the client needs to pay."""
    from . import loyalty
    from .checkout import compute
    from .coupons import release_claim, use_claim

    gw = get_gateway(gateway)
    if booking_id is not None:
        booking = _payable(actor, booking_id)
        gw.check(Payment(customer=actor, booking=booking, gateway=gw.name))
        with transaction.atomic():
            release_claim(booking)
            c = compute(booking, coupon=coupon, wallet=False)
            if c.claim is not None:
                use_claim(c.claim, booking, c.price_fen - c.level_fen)
        fields = {
            "purpose": PaymentPurpose.ORDER,
            "booking": booking,
            "amount_fen": c.due_fen,
        }
    elif plan_id is not None:
        plan = loyalty.active_plan(plan_id)
        fields = {"purpose": PaymentPurpose.TOP_UP, "amount_fen": plan.pay_fen, "plan": plan}
    else:
        if (
            isinstance(top_up_fen, bool)
            or not isinstance(top_up_fen, int)
            or not (100 <= top_up_fen <= MAX_TOP_UP)
        ):
            raise DomainError("invalid_amount", max=MAX_TOP_UP)
        fields = {"purpose": PaymentPurpose.TOP_UP, "amount_fen": top_up_fen}
    if booking_id is None:
        gw.check(Payment(customer=actor, gateway=gw.name, **fields))
    return at_gateway(actor, gw, fields)


def at_gateway(actor, gw, fields: dict, **audited) -> tuple[Payment, dict]:
    """The payment made (and audited), then the gateway asked for what the client needs to
    pay: after commit, with no lock held. A gateway that refuses or fails leaves the attempt
    failed (it can never be paid)."""
    with transaction.atomic():
        payment = _new_payment(customer=actor, gateway=gw.name, **fields)
        audit(actor, "payment.create", payment, amount=payment.amount_fen, **audited)
    try:
        return payment, gw.create(payment)
    except DomainError:
        Payment.objects.filter(pk=payment.pk, status=PaymentStatus.CREATED).update(
            status=PaymentStatus.FAILED
        )
        raise


def apply_notification(*, gateway: str, headers: dict, body: bytes) -> str:
    """Verify and apply a gateway's notification. Returns the result recorded for it."""
    gw = get_gateway(gateway)
    note: Notification = gw.verify(headers, body)
    done = GatewayNotification.objects.filter(
        gateway=gateway, notification_id=note.notification_id
    ).first()
    if done is not None:
        return done.result
    try:
        with transaction.atomic():
            GatewayNotification.objects.create(
                gateway=gateway,
                notification_id=note.notification_id,
                out_trade_no=note.out_trade_no,
                payload={"body": body.decode(errors="replace")},
                result="pending",
            )
            result = _apply(gateway, note)
            GatewayNotification.objects.filter(
                gateway=gateway, notification_id=note.notification_id
            ).update(result=result)
            if note.kind != "refund":
                count(PAYMENTS, gateway=gateway, outcome=result)
                if note.success and result != "already_paid":
                    count(PAID_FEN, note.amount_fen, gateway=gateway)
    except IntegrityError:  # the same notification, concurrently: the other one applies it
        done = GatewayNotification.objects.filter(
            gateway=gateway, notification_id=note.notification_id
        ).first()
        if done is None:
            raise
        return done.result
    return result


def _apply(gateway: str, note: Notification) -> str:
    from . import loyalty

    if note.kind == "refund":  # how a refund we asked for ended
        from .refunds import apply_refund_notice

        return apply_refund_notice(gateway=gateway, note=note)
    payment = (
        Payment.objects.select_for_update()
        .filter(out_trade_no=note.out_trade_no, gateway=gateway)
        .first()
    )
    if payment is None:
        raise DomainError("unknown_payment")
    if note.amount_fen != payment.amount_fen:
        raise DomainError("amount_mismatch")
    if not note.success:
        Payment.objects.filter(pk=payment.pk, status=PaymentStatus.CREATED).update(
            status=PaymentStatus.FAILED
        )
        return "declined"
    if not Payment.objects.filter(
        pk=payment.pk, status__in=[PaymentStatus.CREATED, PaymentStatus.FAILED]
    ).update(status=PaymentStatus.PAID, paid_at=timezone.now(), gateway_txn_id=note.txn_id):
        return "already_paid"
    clearing = ledger.account(AccountKind.GATEWAY_CLEARING)
    if payment.purpose == PaymentPurpose.TOP_UP:
        ledger.post_transfer(
            key=f"payment:{payment.pk}",
            kind="top_up",
            legs=[
                (clearing, -payment.amount_fen),
                (wallet(payment.customer_id), payment.amount_fen),
            ],
        )
        loyalty.credit_bonus(payment)
        return "credited"
    if payment.purpose == PaymentPurpose.PACKAGE:
        from .packages import apply_package_payment

        return apply_package_payment(payment, clearing)
    price = payment.booking.price_fen
    legs = [
        (clearing, -payment.amount_fen),
        (ledger.account(AccountKind.ORDER_ESCROW), price),
    ]
    if price > payment.amount_fen:  # the level discount: promotion expense
        legs.append((ledger.account(AccountKind.PROMOTION_EXPENSE), payment.amount_fen - price))
    ledger.post_transfer(
        key=f"payment:{payment.pk}", kind="order_payment", booking=payment.booking, legs=legs
    )
    try:
        with transaction.atomic():
            confirm_payment(booking_id=payment.booking_id, reference=payment.out_trade_no)
            loyalty.earn_points(payment)
        return "paid"
    except DomainError:
        pass
    # Paid too late: the order expired meanwhile. If its place or time is still free it goes on;
    # otherwise (or if it was cancelled) the money goes back.
    from yuyue.orders.services import revive_paid

    if revive_paid(booking_id=payment.booking_id, reference=payment.out_trade_no):
        loyalty.earn_points(payment)
        return "paid_late"
    transaction.on_commit(lambda: refund_late_payment_job_enqueue(payment.pk))
    return "late_refund"


def refund_late_payment_job_enqueue(payment_id: int) -> None:
    from .tasks import refund_late_payment

    refund_late_payment.enqueue(payment_id)


def refund_late_payment(*, payment_id: int) -> bool:
    """Give back a payment that arrived after its order was gone: gateway first (no lock),
    then the ledger, once."""
    payment = Payment.objects.get(pk=payment_id)
    if payment.refunded_fen:
        return False
    gw = get_gateway(payment.gateway)
    key = f"late:{payment.pk}"
    gw.refund(payment, payment.amount_fen, key)
    with transaction.atomic():
        if not Payment.objects.filter(pk=payment.pk, refunded_fen=0).update(
            refunded_fen=payment.amount_fen
        ):
            return False
        price = payment.booking.price_fen if payment.booking_id else payment.amount_fen
        legs = [
            (ledger.account(AccountKind.ORDER_ESCROW), -price),
            (ledger.account(AccountKind.GATEWAY_CLEARING), payment.amount_fen),
        ]
        if price > payment.amount_fen:  # the level discount goes back to where it came from
            legs.append((ledger.account(AccountKind.PROMOTION_EXPENSE), price - payment.amount_fen))
        ledger.post_transfer(key=f"refund:{key}", kind="refund", legs=legs, booking=payment.booking)
    return True
