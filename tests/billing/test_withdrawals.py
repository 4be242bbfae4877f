"""A provider's withdrawal request holds the amount once, however often a flaky network makes the
phone send it."""

from __future__ import annotations

from tests.billing.conftest import fund
from tests.conftest import api_for
from yuyue.billing import ledger
from yuyue.billing.models import AccountKind, Hold, Withdrawal


def earn(provider, amount):
    account = ledger.account(AccountKind.PROVIDER_AVAILABLE, "provider", provider.pk)
    fund(account, amount, key=f"test-earnings:{provider.pk}", kind="earnings_release")


def test_a_retried_withdrawal_with_its_idempotency_key_holds_the_amount_once(provider):
    earn(provider, 8000)
    me = api_for(provider.user)
    key = {"Idempotency-Key": "withdraw-2026-12-04"}
    status, first = me.post("/api/provider/withdrawals", {"amount_fen": 3000}, headers=key)
    assert status == 201 and first["status"] == "requested", first
    status, again = me.post("/api/provider/withdrawals", {"amount_fen": 3000}, headers=key)
    assert status == 201 and again == first
    assert Withdrawal.objects.filter(provider=provider).count() == 1
    assert Hold.objects.count() == 1
    assert me.get("/api/provider/earnings")[1]["available_fen"] == 5000

    status, problem = me.post("/api/provider/withdrawals", {"amount_fen": 4000}, headers=key)
    assert (status, problem["code"]) == (422, "idempotency_key_reused")
    assert me.get("/api/provider/earnings")[1]["available_fen"] == 5000

    # a new key is a new request; a refusal is not stored, so the same key may be retried later
    status, problem = me.post(
        "/api/provider/withdrawals", {"amount_fen": 6000}, headers={"Idempotency-Key": "big"}
    )
    assert (status, problem["code"]) == (409, "insufficient_funds")
    status, second = me.post(
        "/api/provider/withdrawals", {"amount_fen": 5000}, headers={"Idempotency-Key": "rest"}
    )
    assert status == 201 and second["id"] != first["id"]
    assert me.get("/api/provider/earnings")[1]["available_fen"] == 0
    assert ledger.unbalanced_transfers() == []


def test_a_withdrawal_without_a_key_is_a_new_request_each_time(provider):
    earn(provider, 8000)
    me = api_for(provider.user)
    for _ in range(2):
        status, body = me.post("/api/provider/withdrawals", {"amount_fen": 3000})
        assert status == 201, body
    assert Withdrawal.objects.filter(provider=provider).count() == 2
    assert me.get("/api/provider/earnings")[1]["available_fen"] == 2000
