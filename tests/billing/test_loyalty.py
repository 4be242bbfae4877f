"""Membership levels, points and stored-value plans, through the API and the real payment flow."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.billing.test_payments import book, notify, top_up
from tests.conftest import api_for
from yuyue.billing import ledger, loyalty
from yuyue.billing.gateways.sandbox import SandboxGateway
from yuyue.billing.models import AccountKind, Payment, PointsEntry
from yuyue.billing.payments import wallet
from yuyue.billing.refunds import escrow_held, refund
from yuyue.billing.settlement import settle_order
from yuyue.orders.models import Booking

pytestmark = pytest.mark.django_db


def pay_wallet(user, order_id, **body):
    return api_for(user).post(f"/api/bookings/{order_id}/pay/wallet", body)


def buy_plan(user, plan_id):
    status, body = api_for(user).post("/api/payments", {"plan_id": plan_id})
    assert status == 201, body
    payment = Payment.objects.get(out_trade_no=body["out_trade_no"])
    status, result = notify(SandboxGateway().notification_body(payment))
    assert status == 200, result
    return body


def test_stored_value_plan_credits_cash_and_bonus_apart(customer, operator):
    status, plan = api_for(operator).post(
        "/api/ops/topup-plans", {"name": "充500送50", "pay_fen": 50_000, "bonus_fen": 5_000}
    )
    assert status == 201, plan
    assert [p["id"] for p in api_for(None).get("/api/topup-plans")[1]] == [plan["id"]]
    paid = buy_plan(customer, plan["id"])
    assert paid["amount_fen"] == 50_000  # the customer pays the plan's price
    seen = api_for(customer).get("/api/wallet")[1]
    assert (seen["balance_fen"], seen["bonus_fen"]) == (50_000, 5_000)
    assert ledger.account(AccountKind.PROMOTION_EXPENSE).balance == -5_000
    for bad in ({"pay_fen": -1}, {"pay_fen": 50}, {"bonus_fen": 60_000}, {"pay_fen": "x"}):
        body = {"name": "bad", "pay_fen": 50_000, "bonus_fen": 0, **bad}
        status, problem = api_for(operator).post("/api/ops/topup-plans", body)
        assert status == 422, (bad, problem)
    status, problem = api_for(customer).post(
        "/api/ops/topup-plans", {"name": "mine", "pay_fen": 100, "bonus_fen": 0}
    )
    assert (status, problem["code"]) == (403, "forbidden")


def test_wallet_spends_cash_first_and_refunds_bonus_first(customer, open_slot):
    top_up(customer, 500)
    with_bonus = loyalty.bonus_account(customer.pk)
    from django.db import transaction

    with transaction.atomic():
        ledger.post_transfer(
            key="bonus",
            kind="top_up_bonus",
            legs=[(ledger.account(AccountKind.PROMOTION_EXPENSE), -3000), (with_bonus, 3000)],
        )
    order = book(customer, open_slot)  # 2000 fen
    status, body = pay_wallet(customer, order["id"])
    assert status == 200, body
    payment = Payment.objects.get(booking_id=order["id"])
    assert (payment.amount_fen, payment.bonus_fen) == (2000, 1500)
    assert (wallet(customer.pk).balance, loyalty.bonus_account(customer.pk).balance) == (0, 1500)
    refund(actor=None, booking_id=order["id"], amount_fen=1000, key="a")
    assert (wallet(customer.pk).balance, loyalty.bonus_account(customer.pk).balance) == (0, 2500)
    refund(actor=None, booking_id=order["id"], amount_fen=1000, key="b")
    assert (wallet(customer.pk).balance, loyalty.bonus_account(customer.pk).balance) == (500, 3000)
    assert ledger.unbalanced_transfers() == []


def test_levels_from_spend_discount_the_next_orders(customer, operator, open_slot):
    for name, spend, bp in (("银卡 Silver", 3000, 500), ("金卡 Gold", 10_000, 1000)):
        status, body = api_for(operator).post(
            "/api/ops/membership-levels",
            {"name": name, "min_spend_fen": spend, "discount_bp": bp},
        )
        assert status == 201, body
    status, problem = api_for(operator).post(
        "/api/ops/membership-levels", {"name": "x", "min_spend_fen": 3000, "discount_bp": 1}
    )
    assert (status, problem["code"]) == (409, "level_exists")
    status, problem = api_for(operator).post(
        "/api/ops/membership-levels", {"name": "x", "min_spend_fen": 1, "discount_bp": 9000}
    )
    assert (status, problem["code"]) == (422, "invalid_discount")

    top_up(customer, 20_000)
    me = api_for(customer).get("/api/me/membership")[1]
    assert (me["level"], me["next_level"]["name"], me["to_next_fen"]) == (None, "银卡 Silver", 3000)
    for _ in range(2):
        pay_wallet(customer, book(customer, open_slot)["id"], no_coupon=True)
    me = api_for(customer).get("/api/me/membership")[1]
    assert (me["spend_fen"], me["level"]["name"], me["to_next_fen"]) == (4000, "银卡 Silver", 6000)
    third = book(customer, open_slot)
    pay_wallet(customer, third["id"])
    assert Payment.objects.get(booking_id=third["id"]).amount_fen == 1900  # 5 % off 2000
    assert escrow_held(third["id"]) == 2000  # escrow gets the full price: promotion pays 100
    # a full refund gives back what was paid, and the discount goes back to promotion
    refund(actor=None, booking_id=third["id"], amount_fen=1900, key="full")
    assert escrow_held(third["id"]) == 0
    assert loyalty.spend(customer.pk) == 4000


def test_level_discount_on_gateway_payments(customer, operator, open_slot):
    loyalty.create_level(actor=operator, name="Silver", min_spend_fen=0, discount_bp=1000)
    order = book(customer, open_slot)
    status, body = api_for(customer).post("/api/payments", {"booking_id": order["id"]})
    assert status == 201 and body["amount_fen"] == 1800
    payment = Payment.objects.get(out_trade_no=body["out_trade_no"])
    assert notify(SandboxGateway().notification_body(payment))[1]["result"] == "paid"
    assert escrow_held(order["id"]) == 2000
    assert ledger.unbalanced_transfers() == []


def test_points_earned_redeemed_expired_and_given_back(customer, open_slot, settings):
    top_up(customer, 10_000)
    first = book(customer, open_slot)
    pay_wallet(customer, first["id"])
    assert loyalty.points_balance(customer.pk) == 20  # ¥20 paid → 20 points
    # redeem: never more than the customer has (all or nothing), at most half the price
    second = book(customer, open_slot)
    status, problem = pay_wallet(customer, second["id"], points=500)
    assert (status, problem["code"]) == (409, "insufficient_points")  # and nothing changed
    assert "20" in problem["detail"] and wallet(customer.pk).balance == 8000
    status, body = pay_wallet(customer, second["id"], points=20)
    assert status == 200, body
    assert Payment.objects.get(booking_id=second["id"]).amount_fen == 1980  # 20 points = 20 fen
    assert loyalty.points_balance(customer.pk) == 19  # 0 left + 19 earned on ¥19.80
    status, problem = pay_wallet(customer, book(customer, open_slot)["id"], points=-1)
    assert (status, problem["code"]) == (422, "invalid_points")
    # a refund of the second order gives back the redeemed points and takes back the earned
    refund(actor=None, booking_id=second["id"], amount_fen=1980, key="r2")
    assert loyalty.points_balance(customer.pk) == 20
    # expiry: a year later every lot is gone
    later = timezone.now() + dt.timedelta(days=settings.YUYUE_POINTS_DAYS + 1)
    assert loyalty.points_balance(customer.pk, later) == 0
    PointsEntry.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert loyalty.expire_points() == 20
    assert loyalty.expire_points() == 0
    assert loyalty.points_balance(customer.pk) == 0
    entries = PointsEntry.objects.filter(customer=customer)
    assert sum(e.delta for e in entries) == sum(e.remaining for e in entries) == 0
    seen = api_for(customer).get("/api/me/points")[1]
    assert seen["balance"] == 0 and {e["kind"] for e in seen["entries"]} >= {
        "earn",
        "redeem",
        "expire",
        "restore",
        "reverse",
    }


def test_settlement_splits_only_what_escrow_still_holds(customer, open_slot, merchant, operator):
    merchant.commission_bp = 1000
    merchant.save()
    top_up(customer, 5000)
    order = book(customer, open_slot)
    pay_wallet(customer, order["id"])
    refund(actor=operator, booking_id=order["id"], amount_fen=500, key="part")
    Booking.objects.filter(pk=order["id"]).update(status="checked_in")
    settled = settle_order(booking_id=order["id"])
    platform = ledger.account(AccountKind.PLATFORM_REVENUE)
    assert platform.balance == 150 and escrow_held(order["id"]) == 0  # 10 % of 1500
    assert settle_order(booking_id=order["id"]).pk == settled.pk
    status, problem = api_for(operator).post(
        f"/api/ops/bookings/{order['id']}/refunds",
        {"amount_fen": 100, "reason": "late"},
        headers={"Idempotency-Key": "after"},
    )
    assert (status, problem["code"]) == (409, "order_settled")
