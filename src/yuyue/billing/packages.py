"""A package 包月 paid as one: every unpaid date of it at once, from the wallet or through one
gateway payment, or none.

Each date is paid as a single order would be (its own ledger posting into escrow and its own
payment row, so refunds and settlement stay per date). Through a gateway the package is one trade
(one amount the customer approves); when the gateway says it is paid, each date gets a share: a
payment row of its own (`Payment.package` → the package's payment) whose refunds go to the
gateway against the package's trade. If the package changed while the customer was paying (a
date cancelled or expired, so the amount no longer matches), nothing is confirmed and the whole
payment goes back.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from yuyue.core.audit import audit
from yuyue.core.errors import DomainError
from yuyue.orders.models import Booking, BookingStatus
from yuyue.orders.models import PaymentStatus as OrderPayment
from yuyue.orders.services import confirm_payment

from . import ledger
from .gateways import get_gateway
from .models import AccountKind, Payment, PaymentPurpose, PaymentStatus
from .payments import _payable, _wallet_payment, at_gateway


def package_checkout(actor, series_id: int) -> dict:
    """What paying a package costs now: each unpaid date as `checkout.compute` prices it (the
    member's level discount; coupons and points are for single orders), and the total."""
    from .checkout import compute

    dates = list(
        Booking.objects.filter(
            series_id=series_id,
            customer_id=getattr(actor, "pk", None),
            status=BookingStatus.AWAITING_PAYMENT,
            payment_status=OrderPayment.UNPAID,
        ).order_by("starts_at", "pk")
    )
    priced = [compute(b, coupon=None, wallet=False) for b in dates]
    return {
        "dates": dates,
        "price_fen": sum(c.price_fen for c in priced),
        "level_fen": sum(c.level_fen for c in priced),
        "due_fen": sum(c.due_fen for c in priced),
    }


def pay_package_with_wallet(*, actor, series_id: int) -> list[Booking]:
    """Pay every unpaid date of a package from the wallet in one go, or none: the rows are
    locked in id order (as any payment locks its order first), each date is paid as a single
    order would be (its own ledger posting, so refunds and settlement stay per date), and a
    wallet short of the whole package changes nothing (`insufficient_funds`)."""
    series = _own_series(actor, series_id)
    with transaction.atomic():
        ids = list(
            Booking.objects.select_for_update()
            .filter(series=series, payment_status=OrderPayment.UNPAID)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        if not ids:
            raise DomainError("nothing_to_pay")
        paid, total, level = [], 0, 0
        for pk in ids:
            booking = _payable(actor, pk, lock=True, package=True)
            booking, c = _wallet_payment(actor, booking, coupon=None, points=0)
            paid.append(booking)
            total, level = total + c.due_fen, level + c.level_fen
        audit(actor, "payment.package", series, amount=total, level=level, dates=len(paid))
    return paid


def _own_series(actor, series_id: int):
    from yuyue.orders.models import Series

    series = Series.objects.filter(pk=series_id, customer_id=getattr(actor, "pk", None)).first()
    if series is None:
        raise DomainError("not_found")
    return series


def start_package_payment(*, actor, series_id: int, gateway: str) -> tuple[Payment, dict]:
    """One gateway payment for every unpaid date of the package, at the amount
    `package_checkout` shows; returns what the client needs to pay (as `start_gateway_payment`)."""
    series = _own_series(actor, series_id)
    checkout = package_checkout(actor, series_id)
    if not checkout["dates"]:
        raise DomainError("nothing_to_pay")
    for booking in checkout["dates"]:
        _payable(actor, booking.pk, package=True)  # each date still in its payment window
    gw = get_gateway(gateway)
    fields = {
        "purpose": PaymentPurpose.PACKAGE,
        "series": series,
        "amount_fen": checkout["due_fen"],
    }
    gw.check(Payment(customer=actor, gateway=gw.name, **fields))
    return at_gateway(actor, gw, fields, dates=len(checkout["dates"]))


def apply_package_payment(payment: Payment, clearing) -> str:
    """The gateway says the package's payment is paid (inside the notification's transaction,
    the payment's row locked): each date gets its share and is confirmed, or — when the dates
    no longer add up to what was paid — the whole payment goes back."""
    from . import loyalty
    from .checkout import compute
    from .payments import refund_late_payment_job_enqueue

    dates = list(
        Booking.objects.select_for_update()
        .filter(
            series_id=payment.series_id,
            customer_id=payment.customer_id,
            status=BookingStatus.AWAITING_PAYMENT,
            payment_status=OrderPayment.UNPAID,
        )
        .order_by("pk")
    )
    priced = [(b, compute(b, coupon=None, wallet=False)) for b in dates]
    if dates and sum(c.due_fen for _, c in priced) == payment.amount_fen:
        try:
            with transaction.atomic():
                for n, (booking, c) in enumerate(priced, 1):
                    _share(payment, clearing, booking, c, n)
                audit(None, "payment.package", payment.series, amount=payment.amount_fen)
            for booking, _ in priced:
                share = payment.shares.get(booking=booking)
                loyalty.earn_points(share)
            return "paid"
        except DomainError:
            pass  # a date could not be confirmed: the package is not what was paid for
    # all of it back: into escrow with no order, then out to the gateway (as a late payment)
    ledger.post_transfer(
        key=f"payment:{payment.pk}",
        kind="order_payment",
        legs=[
            (clearing, -payment.amount_fen),
            (ledger.account(AccountKind.ORDER_ESCROW), payment.amount_fen),
        ],
    )
    transaction.on_commit(lambda: refund_late_payment_job_enqueue(payment.pk))
    return "late_refund"


def _share(payment: Payment, clearing, booking: Booking, c, n: int) -> None:
    """One date's share of a package's gateway payment: its payment row, its posting into
    escrow (the level discount from promotions, as a single order's), the order confirmed."""
    share = Payment.objects.create(
        out_trade_no=f"{payment.out_trade_no}-{n}",
        purpose=PaymentPurpose.ORDER,
        customer_id=payment.customer_id,
        booking=booking,
        gateway=payment.gateway,
        amount_fen=c.due_fen,
        status=PaymentStatus.PAID,
        paid_at=timezone.now(),
        package=payment,
    )
    legs = [(clearing, -c.due_fen), (ledger.account(AccountKind.ORDER_ESCROW), booking.price_fen)]
    if booking.price_fen > c.due_fen:
        legs.append((ledger.account(AccountKind.PROMOTION_EXPENSE), c.due_fen - booking.price_fen))
    ledger.post_transfer(
        key=f"payment:{share.pk}", kind="order_payment", booking=booking, legs=legs
    )
    confirm_payment(booking_id=booking.pk, reference=payment.out_trade_no)
