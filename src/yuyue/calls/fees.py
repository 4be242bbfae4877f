"""Fees of a call that did not run: a no-show's, a late cancellation's, taken from the wallet."""

from __future__ import annotations

import datetime as dt

from yuyue.billing import ledger
from yuyue.billing.models import AccountKind
from yuyue.orders.models import Booking


def charge_fee(booking: Booking, fee: int, key: str) -> int:
    """A no-show or late-cancellation fee from the wallet: what is there, never below zero."""
    if fee <= 0:
        return 0
    wallet = ledger.account(AccountKind.CUSTOMER_CASH, "user", booking.customer_id)
    wallet.refresh_from_db()
    amount = min(fee, max(0, wallet.available))
    if not amount:
        return 0
    from yuyue.billing.settlement import split

    platform, merchant, _ = split(amount, booking.merchant.commission_bp, 0, False)
    legs = [
        (wallet, -amount),
        (ledger.account(AccountKind.PLATFORM_REVENUE), platform),
        (ledger.account(AccountKind.MERCHANT_SHARE, "merchant", booking.merchant_id), merchant),
    ]
    ledger.post_transfer(
        key=key, kind="call_fee", booking=booking, legs=[(a, n) for a, n in legs if n]
    )
    return amount


def cancellation_fee(booking: Booking, when: dt.datetime) -> int:
    """What a customer's cancellation costs by the service's tiered rules (booked price)."""
    from yuyue.billing.refunds import policy_refund

    return booking.price_fen - policy_refund(booking, when=when)
