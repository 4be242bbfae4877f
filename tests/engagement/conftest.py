"""After-sales and review fixtures: a finished order its customer paid from the wallet."""

from __future__ import annotations

import pytest

from tests.engagement.test_reviews import finished
from yuyue.orders.models import Booking, BookingStatus, PaymentStatus


@pytest.fixture
def paid_order(customer, onsite_service, provider, settings):
    """A finished order the customer paid from the wallet (escrow holds its price)."""
    from tests.calls.conftest import top_up
    from yuyue.billing.payments import pay_with_wallet

    settings.YUYUE_SETTLE_AFTER_HOURS = 0
    booking = finished(customer, onsite_service, provider, status=BookingStatus.AWAITING_PAYMENT)
    Booking.objects.filter(pk=booking.pk).update(
        price_fen=12000, payment_status=PaymentStatus.UNPAID
    )
    top_up(customer, 20_000)
    pay_with_wallet(actor=customer, booking_id=booking.pk)
    Booking.objects.filter(pk=booking.pk).update(status=BookingStatus.COMPLETED)
    booking.refresh_from_db()
    return booking
