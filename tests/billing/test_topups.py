"""Stored-value plans managed by operators, and refunds of top-ups that never pay out a bonus,
through the API, the sandbox gateway and the ledger."""

from __future__ import annotations

import pytest

from tests.billing.test_loyalty import buy_plan
from tests.billing.test_payments import book, notify, top_up
from tests.conftest import api_for
from yuyue.billing import ledger, loyalty
from yuyue.billing.gateways.sandbox import SandboxGateway
from yuyue.billing.models import (
    AccountKind,
    Payment,
    Refund,
    SandboxTransaction,
    TopUpPlan,
    Transfer,
)
from yuyue.billing.payments import wallet

pytestmark = pytest.mark.django_db


def refund_url(payment_id):
    return f"/api/ops/payments/{payment_id}/refunds"


def ops_refund(operator, payment_id, amount, key="k1", **extra):
    return api_for(operator).post(
        refund_url(payment_id),
        {"amount_fen": amount, **extra},
        headers={"Idempotency-Key": key},
    )


def balances(user):
    return wallet(user.pk).balance, loyalty.bonus_account(user.pk).balance


def test_operators_retire_and_rename_plans_whose_amounts_never_change(customer, operator):
    status, plan = api_for(operator).post(
        "/api/ops/topup-plans", {"name": "充100送10", "pay_fen": 10_000, "bonus_fen": 1000}
    )
    assert status == 201, plan
    # a customer starts paying for it, then the operator retires it
    status, started = api_for(customer).post("/api/payments", {"plan_id": plan["id"]})
    assert status == 201
    url = f"/api/ops/topup-plans/{plan['id']}"
    status, changed = api_for(operator).patch(url, {"active": False, "name": "旧 old"})
    assert status == 200 and (changed["active"], changed["name"]) == (False, "旧 old")
    assert api_for(None).get("/api/topup-plans")[1] == []
    assert [p["active"] for p in api_for(operator).get("/api/ops/topup-plans")[1]] == [False]
    status, problem = api_for(customer).post("/api/payments", {"plan_id": plan["id"]})
    assert (status, problem["code"]) == (404, "not_found")
    # the payment started before still gets the plan's bonus
    payment = Payment.objects.get(out_trade_no=started["out_trade_no"])
    assert notify(SandboxGateway().notification_body(payment))[0] == 200
    assert balances(customer) == (10_000, 1000)
    # amounts cannot be changed; nonsense and strangers change nothing
    for bad in ({"pay_fen": 1}, {"bonus_fen": 99_999}, {"active": "yes"}, {"name": ""}):
        status, problem = api_for(operator).patch(url, bad)
        assert (status, problem["code"]) == (422, "invalid_input"), (bad, problem)
    assert api_for(customer).patch(url, {"active": True})[1]["code"] == "forbidden"
    assert api_for(customer).get("/api/ops/topup-plans")[1]["code"] == "forbidden"
    assert api_for(operator).patch("/api/ops/topup-plans/999999", {"active": True})[0] == 404
    plan_row = TopUpPlan.objects.get(pk=plan["id"])
    assert (plan_row.pay_fen, plan_row.bonus_fen, plan_row.active) == (10_000, 1000, False)
    for bad in ({"pay_fen": 10**9}, {"pay_fen": True}, {"bonus_fen": -1}):
        body = {"name": "bad", "pay_fen": 10_000, "bonus_fen": 0, **bad}
        assert api_for(operator).post("/api/ops/topup-plans", body)[0] == 422, bad
    assert TopUpPlan.objects.count() == 1


def test_refunding_part_of_a_plan_takes_its_share_of_the_bonus(customer, operator):
    plan = loyalty.create_plan(actor=operator, name="充500送50", pay_fen=50_000, bonus_fen=5000)
    paid = buy_plan(customer, plan.pk)
    payment = Payment.objects.get(out_trade_no=paid["out_trade_no"])
    status, body = ops_refund(operator, payment.pk, 20_000, reason="changed mind")
    assert status == 201, body
    assert body["gateway_refund_id"].startswith("sbr_") and body["payment_id"] == payment.pk
    assert balances(customer) == (30_000, 3000)  # 40 % of the cash, 40 % of the bonus
    assert ledger.account(AccountKind.PROMOTION_EXPENSE).balance == -3000
    # the same key again: the same refund, nothing more; with another amount: refused
    again = ops_refund(operator, payment.pk, 20_000)
    assert again[0] == 201 and again[1]["id"] == body["id"]
    status, problem = ops_refund(operator, payment.pk, 100)
    assert (status, problem["code"]) == (422, "idempotency_key_reused")
    # more than is left of the payment: refused, nothing changed
    status, problem = ops_refund(operator, payment.pk, 30_001, key="k2")
    assert (status, problem["code"]) == (409, "refund_exceeds_payment")
    status, body = ops_refund(operator, payment.pk, 30_000, key="k3")
    assert status == 201, body
    assert balances(customer) == (0, 0)
    assert ledger.account(AccountKind.PROMOTION_EXPENSE).balance == 0
    # the gateway paid back exactly the cash, once per refund: never the bonus
    assert sorted(
        SandboxTransaction.objects.filter(kind="refund").values_list("amount_fen", flat=True)
    ) == [20_000, 30_000]
    assert Payment.objects.get(pk=payment.pk).refunded_fen == 50_000
    assert ledger.unbalanced_transfers() == []


def test_bonus_already_spent_is_made_good_from_cash(customer, operator, open_slot):
    """Plan ¥100 + ¥10. An order of ¥105 takes the ¥100 cash and ¥5 of bonus; a later plain
    top-up of ¥200. Refunding the whole plan pays back ¥100 through the gateway and takes the
    plan's ¥10 bonus back: ¥5 left in bonus, ¥5 (spent) from cash."""
    open_slot.service.base_price_fen = 10_500
    open_slot.service.save()
    plan = loyalty.create_plan(actor=operator, name="p", pay_fen=10_000, bonus_fen=1000)
    payment = Payment.objects.get(out_trade_no=buy_plan(customer, plan.pk)["out_trade_no"])
    order = book(customer, open_slot)
    assert api_for(customer).post(f"/api/bookings/{order['id']}/pay/wallet")[0] == 200
    assert balances(customer) == (0, 500)
    # with nothing in cash, a refund is refused and changes nothing
    status, problem = ops_refund(operator, payment.pk, 10_000)
    assert (status, problem["code"]) == (409, "insufficient_funds")
    assert not Refund.objects.exists() and Payment.objects.get(pk=payment.pk).refunded_fen == 0
    top_up(customer, 20_000)
    status, body = ops_refund(operator, payment.pk, 10_000)
    assert status == 201, body
    assert balances(customer) == (9500, 0)
    transfer = Transfer.objects.get(kind="top_up_refund")
    legs = dict(transfer.entries.values_list("account__code", "amount"))
    assert legs == {
        wallet(customer.pk).code: -10_500,
        "gateway_clearing": 10_000,
        loyalty.bonus_account(customer.pk).code: -500,
        "promotion_expense": 1000,
    }
    assert ledger.unbalanced_transfers() == []


def test_top_up_refunds_refuse_bad_input(customer, other_customer, operator, open_slot):
    top_payment = Payment.objects.get(
        out_trade_no=api_for(customer).post("/api/payments", {"top_up_fen": 5000})[1][
            "out_trade_no"
        ]
    )
    status, problem = ops_refund(operator, top_payment.pk, 100)
    assert (status, problem["code"]) == (409, "nothing_to_refund")  # not paid yet
    notify(SandboxGateway().notification_body(top_payment))
    top_up(customer, 2000)
    order = book(customer, open_slot)
    api_for(customer).post(f"/api/bookings/{order['id']}/pay/wallet")
    order_payment = Payment.objects.get(booking_id=order["id"])
    for who, pid, amount, code, http in (
        (operator, order_payment.pk, 100, "not_found", 404),  # an order's payment: not here
        (operator, 999_999, 100, "not_found", 404),
        (operator, top_payment.pk, 0, "invalid_amount", 422),
        (operator, top_payment.pk, -5, "invalid_amount", 422),
        (operator, top_payment.pk, 10**13, "invalid_amount", 422),
        (operator, top_payment.pk, "100", "invalid_input", 422),
        (customer, top_payment.pk, 100, "forbidden", 403),
        (other_customer, top_payment.pk, 100, "forbidden", 403),
    ):
        status, problem = ops_refund(who, pid, amount)
        assert (status, problem["code"]) == (http, code), (who, pid, amount, problem)
    status, problem = api_for(operator).post(refund_url(top_payment.pk), {"amount_fen": 100})
    assert status == 422  # no Idempotency-Key
    status, problem = ops_refund(operator, top_payment.pk, 100, key="x" * 101)
    assert (status, problem["code"]) == (422, "idempotency_key_invalid")
    assert not Refund.objects.exists() and balances(customer) == (5000, 0)
    # a plain top-up (no plan) is paid back in part, no bonus involved
    status, body = ops_refund(operator, top_payment.pk, 1500)
    assert status == 201 and balances(customer) == (3500, 0)
