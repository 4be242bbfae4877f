"""What calls does when an order changes (yuyue.orders.events), inside the order's transaction:
a booked timed session gets its call (rate and rules copied onto it); a cancelled one is closed,
with the tiered fee of a customer's late cancellation taken from the wallet."""

from __future__ import annotations

from django.utils import timezone

from yuyue.orders.models import Booking, Channel
from yuyue.orders.models import PaymentStatus as OrderPayment
from yuyue.pricing import metering


def on_placed(sender, *, booking: Booking, **_) -> None:
    if booking.channel != Channel.CALL:
        return
    from .services import open_call

    open_call(
        booking,
        rate_fen=metering.rate_for(booking.service, booking.provider),
        rules=metering.rules_from(booking.service.call_rules),
    )


def on_step(sender, *, booking: Booking, step: str, **_) -> None:
    if step not in ("cancel", "staff_cancel") or booking.payment_status != OrderPayment.METERED:
        return
    from .fees import cancellation_fee
    from .services import close_cancelled

    when = booking.cancelled_at or timezone.now()
    fee = cancellation_fee(booking, when) if step == "cancel" else 0
    close_cancelled(booking, fee=fee, when=when)
