"""The money of one on-site visit, end to end through the API and the sandbox gateway:
order → pay → notify → paid → complete → settle → release → withdraw → approve → paid out,
with the ledger asserted at each step."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from tests.conftest import api_for
from yuyue.billing import ledger
from yuyue.billing.models import AccountKind
from yuyue.scheduling.models import WorkingHours

SH = ZoneInfo("Asia/Shanghai")
HERE = {"lat": 31.2304, "lng": 121.4737}


def balances(merchant, provider, customer):
    acc = ledger.account
    return {
        "clearing": acc(AccountKind.GATEWAY_CLEARING).balance,
        "escrow": acc(AccountKind.ORDER_ESCROW).balance,
        "platform": acc(AccountKind.PLATFORM_REVENUE).balance,
        "merchant": acc(AccountKind.MERCHANT_SHARE, "merchant", merchant.pk).balance,
        "frozen": acc(AccountKind.PROVIDER_FROZEN, "provider", provider.pk).balance,
        "available": acc(AccountKind.PROVIDER_AVAILABLE, "provider", provider.pk).balance,
        "payouts": acc(AccountKind.PAYOUT_CLEARING).balance,
    }


def work(worker_runs=1):
    for _ in range(worker_runs):
        call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)


@pytest.mark.django_db(transaction=True)
def test_one_visit_from_payment_to_payout(
    live_server, settings, customer, provider, merchant, onsite_service, operator, tomorrow_local
):
    settings.YUYUE_PUBLIC_BASE_URL = live_server.url
    # tomorrow's visit is worked through now (the steps' windows: test_fulfilment.py)
    settings.YUYUE_STEP_EARLY_MINUTES = {}
    settings.YUYUE_SETTLE_AFTER_HOURS = 0
    settings.YUYUE_EARNINGS_FREEZE_HOURS = 0
    WorkingHours.objects.create(
        provider=provider, weekday=tomorrow_local.weekday(), start=dt.time(8), end=dt.time(20)
    )
    me = api_for(customer)
    status, order = me.post(
        "/api/provider-bookings",
        {
            "service_id": onsite_service.pk,
            "provider_id": provider.pk,
            "address": "5 Ruijin Road",
            "starts_at": dt.datetime.combine(tomorrow_local, dt.time(10), tzinfo=SH).isoformat(),
        },
    )
    assert status == 201 and order["status"] == "awaiting_payment" and order["price_fen"] == 12000

    _, payment = me.post("/api/payments", {"booking_id": order["id"]})
    me.post(payment["params"]["checkout_url"], {})
    work()  # the sandbox calls our notify URL over HTTP
    assert me.get(f"/api/bookings/{order['id']}")[1]["status"] == "accepted"
    assert balances(merchant, provider, customer) == {
        "clearing": -12000,
        "escrow": 12000,
        "platform": 0,
        "merchant": 0,
        "frozen": 0,
        "available": 0,
        "payouts": 0,
    }

    p = api_for(provider.user)
    for step, extra in [
        ("depart", {}),
        ("arrive", {}),
        ("start", {"code": order["code"]}),
        ("complete", {"code": order["code"]}),
    ]:
        assert p.post(f"/api/provider/orders/{order['id']}/{step}", {**HERE, **extra})[0] == 200
    work(2)  # settlement, then the release of the provider's earnings
    # 10% commission = 1200; of the 10800 left the provider gets 70% = 7560, the merchant 3240
    assert balances(merchant, provider, customer) == {
        "clearing": -12000,
        "escrow": 0,
        "platform": 1200,
        "merchant": 3240,
        "frozen": 0,
        "available": 7560,
        "payouts": 0,
    }
    assert p.get("/api/provider/earnings")[1] == {
        "frozen_fen": 0,
        "available_fen": 7560,
        "withdrawing_fen": 0,
    }

    status, body = p.post("/api/provider/withdrawals", {"amount_fen": 999})
    assert (status, body["code"]) == (422, "withdrawal_too_small")
    status, body = p.post("/api/provider/withdrawals", {"amount_fen": 9000})
    assert (status, body["code"]) == (409, "insufficient_funds")
    status, w = p.post("/api/provider/withdrawals", {"amount_fen": 7000})
    assert status == 201 and w["status"] == "requested"
    assert p.get("/api/provider/earnings")[1]["available_fen"] == 560
    ops = api_for(operator)
    [waiting] = ops.get("/api/ops/withdrawals")[1]  # the operator sees who is asking
    assert (waiting["id"], waiting["amount_fen"]) == (w["id"], 7000)
    assert waiting["asker"]["provider_id"] == provider.pk
    assert waiting["asker"]["name"] == provider.display_name
    assert waiting["asker"]["merchant_name"] == merchant.name
    assert "****" in waiting["asker"]["phone"]
    status, paid = ops.post(f"/api/ops/withdrawals/{w['id']}/decide", {"approve": True})
    assert status == 200 and paid["status"] == "paid" and paid["payout_id"]
    status, again = ops.post(f"/api/ops/withdrawals/{w['id']}/decide", {"approve": True})
    assert (status, again["code"]) == (409, "withdrawal_decided")
    assert balances(merchant, provider, customer) == {
        "clearing": -12000,
        "escrow": 0,
        "platform": 1200,
        "merchant": 3240,
        "frozen": 0,
        "available": 560,
        "payouts": 7000,
    }
    assert ledger.unbalanced_transfers() == []

    status, body = p.post("/api/provider/withdrawals", {"amount_fen": 1000})
    assert (status, body["code"]) == (409, "insufficient_funds")  # only 560 left

    # the provider's statement: settlement → frozen, release → available, the payout
    status, statement = p.get("/api/provider/statement")
    assert status == 200, statement
    kinds = [(line["kind"], line["bucket"], line["amount_fen"]) for line in statement["lines"]]
    assert kinds == [
        ("payout", "available", -7000),
        ("earnings_release", "available", 7560),
        ("earnings_release", "frozen", -7560),
        ("settlement", "frozen", 7560),
    ]
    assert (statement["opening_frozen_fen"], statement["opening_available_fen"]) == (0, 0)
    assert (statement["closing_frozen_fen"], statement["closing_available_fen"]) == (0, 560)
    assert statement["lines"][0]["available_after_fen"] == 560


def test_split_adds_up():
    from yuyue.billing.settlement import split

    for amount in (1, 99, 12000, 12345, 10**9 + 7):
        assert sum(split(amount, 1000, 7000, True)) == amount
        assert sum(split(amount, 1250, 0, False)) == amount
