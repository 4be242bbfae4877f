"""Refunds by tiered policy on cancellation, partial refunds by operators, each exactly once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from tests.conftest import api_for
from yuyue.billing import ledger
from yuyue.billing.models import AccountKind, Payment, Refund
from yuyue.billing.payments import wallet
from yuyue.billing.refunds import policy_refund
from yuyue.orders.models import Booking, BookingEvent
from yuyue.scheduling.models import TimeSlot

PRICE = 10000


@pytest.fixture
def paid_order(customer, hall_service, hall):
    hall_service.base_price_fen = PRICE
    hall_service.cancel_policy = "any_time"
    hall_service.refund_rules = {"free_hours": 24, "fee_percent": 20, "travel_fee_fen": 3000}
    hall_service.save()

    def make(starts_in: dt.timedelta):
        start = timezone.now() + starts_in
        slot = TimeSlot.objects.create(
            service=hall_service,
            hall=hall,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            capacity=5,
        )
        with transaction.atomic():
            ledger.post_transfer(
                key=f"seed:{slot.pk}",
                kind="top_up",
                legs=[
                    (ledger.account(AccountKind.GATEWAY_CLEARING), -PRICE),
                    (wallet(customer.pk), PRICE),
                ],
            )
        _, body = api_for(customer).post("/api/bookings", {"slot_id": slot.pk})
        api_for(customer).post(f"/api/bookings/{body['id']}/pay/wallet")
        return Booking.objects.get(pk=body["id"])

    return make


def test_policy_tiers(paid_order):
    early = paid_order(dt.timedelta(days=3))
    assert policy_refund(early) == PRICE  # more than 24 h before: everything
    late = paid_order(dt.timedelta(hours=5))
    assert policy_refund(late) == 8000  # within 24 h: 20% kept
    BookingEvent.objects.create(
        booking=late, step="depart", from_status="accepted", to_status="departed", role="provider"
    )
    assert policy_refund(late) == 5000  # and the travel fee once the provider set off
    assert policy_refund(late, when=late.starts_at) == 0


@pytest.mark.django_db(transaction=True)
def test_cancelling_a_paid_order_refunds_by_policy(customer, paid_order):
    order = paid_order(dt.timedelta(hours=5))
    assert wallet(customer.pk).balance == 0
    assert api_for(customer).post(f"/api/bookings/{order.pk}/cancel", {})[0] == 200
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    assert wallet(customer.pk).balance == 8000
    order.refresh_from_db()
    assert order.payment_status == "partially_refunded"  # 2000 of it kept by the policy
    assert ledger.account(AccountKind.ORDER_ESCROW).balance == 0
    assert ledger.account(AccountKind.PLATFORM_REVENUE).balance == 200  # 10% of the 2000 kept
    assert ledger.unbalanced_transfers() == []


def test_operator_partial_refunds_once_each(operator, customer, paid_order):
    order = paid_order(dt.timedelta(days=2))
    ops = api_for(operator)
    url = f"/api/ops/bookings/{order.pk}/refunds"
    status, first = ops.post(url, {"amount_fen": 3000}, headers={"Idempotency-Key": "a"})
    assert status == 201

    def payment_status():
        return api_for(customer).get(f"/api/bookings/{order.pk}")[1]["payment_status"]

    assert payment_status() == "partially_refunded"
    status, again = ops.post(url, {"amount_fen": 3000}, headers={"Idempotency-Key": "a"})
    assert again["id"] == first["id"]
    assert ops.post(url, {"amount_fen": 7000}, headers={"Idempotency-Key": "b"})[0] == 201
    assert payment_status() == "refunded"
    status, problem = ops.post(url, {"amount_fen": 1}, headers={"Idempotency-Key": "c"})
    assert (status, problem["code"]) == (409, "refund_exceeds_payment")
    assert Payment.objects.get().refunded_fen == PRICE
    assert wallet(customer.pk).balance == PRICE
    assert Refund.objects.count() == 2
    for bad in (0, -5, 10**13):
        status, problem = ops.post(url, {"amount_fen": bad}, headers={"Idempotency-Key": "d"})
        assert problem["code"] == "invalid_amount"
    status, problem = api_for(customer).post(
        url, {"amount_fen": 1}, headers={"Idempotency-Key": "e"}
    )
    assert (status, problem["code"]) == (403, "forbidden")
