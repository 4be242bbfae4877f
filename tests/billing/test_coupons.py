"""Coupons: kinds, scope, the best chosen automatically, used once, paid for by promotions."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from tests.conftest import api_for
from yuyue.billing import ledger
from yuyue.billing.coupons import discount
from yuyue.billing.models import AccountKind, Coupon, CouponClaim, CouponKind
from yuyue.billing.payments import wallet
from yuyue.scheduling.models import TimeSlot


def coupon(**kw):
    now = timezone.now()
    return Coupon.objects.create(
        **{
            "name": "c",
            "kind": CouponKind.FIXED,
            "value_fen": 500,
            "valid_from": now - dt.timedelta(hours=1),
            "valid_until": now + dt.timedelta(days=1),
            "total_limit": 100,
            **kw,
        }
    )


def test_discount_kinds():
    assert discount(Coupon(kind="threshold", threshold_fen=10000, value_fen=2000), 9999) == 0
    assert discount(Coupon(kind="threshold", threshold_fen=10000, value_fen=2000), 10000) == 2000
    assert discount(Coupon(kind="percent", percent=15, cap_fen=1000), 5000) == 750
    assert discount(Coupon(kind="percent", percent=15, cap_fen=1000), 50000) == 1000
    assert discount(Coupon(kind="fixed", value_fen=900), 500) == 500  # never below zero


@pytest.fixture
def order(customer, hall_service, hall):
    hall_service.base_price_fen = 10000
    hall_service.save()
    start = timezone.now() + dt.timedelta(days=1)
    slot = TimeSlot.objects.create(
        service=hall_service,
        hall=hall,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        capacity=5,
    )
    with transaction.atomic():
        ledger.post_transfer(
            key="seed",
            kind="top_up",
            legs=[
                (ledger.account(AccountKind.GATEWAY_CLEARING), -10000),
                (wallet(customer.pk), 10000),
            ],
        )
    return api_for(customer).post("/api/bookings", {"slot_id": slot.pk})[1]


def test_best_coupon_is_used_and_promotion_pays_the_discount(
    customer, order, hall_service, other_merchant
):
    small = coupon(name="¥5 off", value_fen=500)
    big = coupon(name="15% off up to ¥20", kind="percent", percent=15, cap_fen=2000)
    elsewhere = coupon(name="¥50 elsewhere", value_fen=5000, merchant=other_merchant)
    api = api_for(customer)
    for c in (small, big, elsewhere):
        assert api.post(f"/api/coupons/{c.pk}/claim")[0] == 201
    status, paid = api.post(f"/api/bookings/{order['id']}/pay/wallet", {})
    assert status == 200 and paid["payment_status"] == "paid"
    used = CouponClaim.objects.get(used_on_id=order["id"])
    assert (used.coupon_id, used.discount_fen) == (big.pk, 1500)
    assert wallet(customer.pk).balance == 1500  # paid 8500 of 10000
    assert ledger.account(AccountKind.ORDER_ESCROW).balance == 10000
    assert ledger.account(AccountKind.PROMOTION_EXPENSE).balance == -1500


def test_claim_limits(customer, other_customer):
    c = coupon(total_limit=1, per_customer_limit=1)
    assert api_for(customer).post(f"/api/coupons/{c.pk}/claim")[0] == 201
    status, body = api_for(customer).post(f"/api/coupons/{c.pk}/claim")
    assert (status, body["code"]) == (409, "coupon_limit_reached")
    status, body = api_for(other_customer).post(f"/api/coupons/{c.pk}/claim")
    assert (status, body["code"]) == (409, "coupon_sold_out")
    old = coupon(valid_until=timezone.now() - dt.timedelta(seconds=1))
    status, body = api_for(customer).post(f"/api/coupons/{old.pk}/claim")
    assert (status, body["code"]) == (409, "coupon_not_valid")
    assert [x["id"] for x in api_for(None).get("/api/coupons")[1]] == []


def test_new_customers_only(customer, order):
    c = coupon(new_customers_only=True)
    api_for(customer).post(f"/api/coupons/{c.pk}/claim")
    from yuyue.orders.models import Booking

    Booking.objects.create(
        customer=customer,
        merchant_id=order["merchant_id"],
        service_id=order["service_id"],
        slot_id=order["slot_id"],
        starts_at=timezone.now(),
        ends_at=timezone.now(),
        code="OLDPAIDXYZ",
        payment_status="paid",
        status="checked_in",
    )
    api_for(customer).post(f"/api/bookings/{order['id']}/pay/wallet", {})
    assert not CouponClaim.objects.filter(used_on__isnull=False).exists()


def test_coupon_on_a_gateway_payment_is_held_until_paid_or_expired(customer, open_slot):
    from tests.billing.test_payments import book, notify
    from yuyue.billing.gateways.sandbox import SandboxGateway
    from yuyue.billing.models import Payment
    from yuyue.billing.refunds import escrow_held
    from yuyue.orders.models import Booking
    from yuyue.orders.services import expire_unpaid

    c = coupon(kind="fixed", value_fen=300)
    claim = CouponClaim.objects.create(coupon=c, customer=customer)
    first, second = book(customer, open_slot), book(customer, open_slot)
    status, body = api_for(customer).post("/api/payments", {"booking_id": first["id"]})
    assert status == 201 and body["amount_fen"] == 1700  # 2000 less the coupon
    claim.refresh_from_db()
    assert claim.used_on_id == first["id"]  # held: no other order can use it meanwhile
    status, other = api_for(customer).post("/api/payments", {"booking_id": second["id"]})
    assert other["amount_fen"] == 2000
    # starting again for the same order gets the same coupon again
    status, again = api_for(customer).post("/api/payments", {"booking_id": first["id"]})
    assert again["amount_fen"] == 1700
    payment = Payment.objects.get(out_trade_no=again["out_trade_no"])
    assert notify(SandboxGateway().notification_body(payment))[1]["result"] == "paid"
    assert escrow_held(first["id"]) == 2000  # promotion paid the 300
    # the second order expires unpaid: nothing was held for it; a coupon held would come back
    claim2 = CouponClaim.objects.create(coupon=c, customer=customer)
    api_for(customer).post("/api/payments", {"booking_id": second["id"]})
    claim2.refresh_from_db()
    assert claim2.used_on_id == second["id"]
    Booking.objects.filter(pk=second["id"]).update(pay_before=timezone.now())
    assert expire_unpaid(booking_id=second["id"])
    claim2.refresh_from_db()
    assert claim2.used_on_id is None and claim2.discount_fen == 0
