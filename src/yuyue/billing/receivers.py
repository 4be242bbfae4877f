"""What billing does when an order changes (yuyue.orders.events), inside the order's transaction:

- expired or cancelled unpaid: the coupon it claimed is given back;
- cancelled paid: refunded by the service's rules (a job, after commit: it calls the gateway);
- checked in or completed: settled after the complaint window;
- a no-show of a paid order: settled by the no-show rules (a job, after commit);
- a timed call booked: the wallet must cover the call's first hold, or nothing is booked.
"""

from __future__ import annotations

from django.db import transaction

from yuyue.core.errors import DomainError
from yuyue.orders.models import Booking, Channel
from yuyue.orders.models import PaymentStatus as OrderPayment

CANCEL_STEPS = frozenset({"cancel", "staff_cancel"})
# paid, and some of it may still be owed back or kept (a partial refund leaves the rest)
HOLDING_MONEY = frozenset({OrderPayment.PAID, OrderPayment.PARTIALLY_REFUNDED})


def on_step(sender, *, booking: Booking, step: str, **_) -> None:
    if step == "expire" or (step in CANCEL_STEPS and booking.payment_status == OrderPayment.UNPAID):
        from .coupons import release_claim

        release_claim(booking)
    elif step in CANCEL_STEPS and booking.payment_status in HOLDING_MONEY:
        from .tasks import refund_cancelled_order_job

        transaction.on_commit(lambda: refund_cancelled_order_job.enqueue(booking.pk))
    elif step in ("check_in", "complete"):
        from .settlement import schedule_settlement

        schedule_settlement(booking)
    elif step == "no_show" and booking.payment_status in HOLDING_MONEY:
        from .tasks import settle_no_show_job

        transaction.on_commit(lambda: settle_no_show_job.enqueue(booking.pk))


def on_placed(sender, *, booking: Booking, **_) -> None:
    """A timed call is billed after it ends, from a hold on the wallet: the wallet must cover the
    first hold now (refused in the booking's transaction, so nothing of it stays)."""
    if booking.channel != Channel.CALL:
        return
    from yuyue.pricing import metering

    from .payments import wallet

    service = booking.service
    hold = metering.first_hold_fen(
        metering.rules_from(service.call_rules),
        metering.rate_for(service, booking.provider),
        int((booking.ends_at - booking.starts_at).total_seconds()),
    )
    if hold > wallet(booking.customer_id).available:
        raise DomainError("insufficient_funds")
