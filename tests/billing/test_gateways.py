"""WeChat Pay v3 and Alipay adapters against local servers that speak their protocols with real
keys: prepay and signed client parameters, notifications (good, forged, tampered, wrong amount,
unknown order), refunds once per key, query and close, and a gateway that is not set up."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from tests.billing.fake_gateways import FakeAlipay, FakeWeChatPay, KeyPair
from tests.billing.test_payments import book
from tests.conftest import api_for
from yuyue.billing.gateways import get_gateway
from yuyue.billing.models import Payment, Refund
from yuyue.billing.reports import reconcile
from yuyue.orders.models import Booking

pytestmark = pytest.mark.django_db


def cn_today():
    return timezone.now().astimezone(dt.timezone(dt.timedelta(hours=8))).date()


@pytest.fixture
def wechat(settings):
    fake = FakeWeChatPay().start()
    settings.YUYUE_WECHATPAY = fake.settings()
    yield fake
    fake.stop()


@pytest.fixture
def alipay(settings):
    fake = FakeAlipay().start()
    settings.YUYUE_ALIPAY = fake.settings()
    yield fake
    fake.stop()


def post_notify(gateway: str, headers: dict, body: bytes, content_type="application/json"):
    response = Client().post(
        f"/api/payments/notify/{gateway}", body, content_type=content_type, headers=headers
    )
    return response.status_code, response.content


def start(user, order_id, gateway):
    return api_for(user).post("/api/payments", {"booking_id": order_id, "gateway": gateway})


def test_wechat_pay_end_to_end(wechat, customer, open_slot, operator):
    order = book(customer, open_slot)
    status, problem = start(customer, order["id"], "wechat")
    assert (status, problem["code"]) == (409, "wechat_login_required")  # no openid yet
    status, problem = api_for(customer).post(
        "/api/payments", {"top_up_fen": 100, "gateway": "wechat"}
    )
    assert (status, problem["code"]) == (409, "wechat_login_required")
    assert not Payment.objects.exists()  # a refusal leaves no payment behind
    customer.wx_openid = "o-customer-1"
    customer.save()

    status, paid = start(customer, order["id"], "wechat")
    assert status == 201, paid
    params = paid["params"]
    # wx.requestPayment's parameters, signed with our merchant key
    message = (
        "\n".join([params["appId"], params["timeStamp"], params["nonceStr"], params["package"]])
        + "\n"
    )
    assert wechat.merchant.verifies(message, params["paySign"])
    assert params["signType"] == "RSA" and params["package"].startswith("prepay_id=wx")
    prepaid = wechat.orders[paid["out_trade_no"]]
    assert (prepaid["total"], prepaid["openid"]) == (2000, "o-customer-1")
    assert prepaid["notify_url"].endswith("/api/payments/notify/wechat")

    number = paid["out_trade_no"]
    payment = Payment.objects.get(out_trade_no=number)
    forged_headers, body = wechat.notification(number, signer=KeyPair())
    tampered = wechat.notification(number, tamper=True)
    wrong_amount = wechat.notification(number, total=1)
    for headers, bad in (
        (forged_headers, body),
        tampered,
        ({**forged_headers, "Wechatpay-Serial": "PUB_KEY_ID_OTHER"}, body),
    ):
        status, content = post_notify("wechat", headers, bad)
        assert status == 400 and json.loads(content)["code"] == "bad_signature"
    status, content = post_notify("wechat", *wrong_amount)
    assert json.loads(content)["code"] == "amount_mismatch"
    payment.refresh_from_db()
    assert payment.status == "created"  # nothing changed

    good = wechat.notification(number)
    for _ in range(2):
        status, content = post_notify("wechat", *good)
        assert status == 200 and json.loads(content) == {"code": "SUCCESS", "result": "paid"}
    payment.refresh_from_db()
    assert (payment.status, payment.gateway_txn_id) == ("paid", prepaid["transaction_id"])
    assert Booking.objects.get(pk=order["id"]).payment_status == "paid"

    gateway = get_gateway("wechat")
    assert gateway.query(payment) == {
        "state": "SUCCESS",
        "txn_id": prepaid["transaction_id"],
        "amount_fen": 2000,
    }
    for _ in range(2):  # a retried refund with the same key: one call to WeChat
        status, body = api_for(operator).post(
            f"/api/ops/bookings/{order['id']}/refunds",
            {"amount_fen": 500, "reason": "partial"},
            headers={"Idempotency-Key": "wx-r1"},
        )
        assert status in (200, 201), body
    assert len(wechat.refund_calls) == 1
    call = wechat.refund_calls[0]
    assert call["amount"] == {"refund": 500, "total": 2000, "currency": "CNY"}
    assert (
        Refund.objects.get().gateway_refund_id == wechat.refunds[call["out_refund_no"]]["refund_id"]
    )

    # reconciliation reads WeChat Pay's trade bill (downloaded, gzip, backtick CSV)
    run = reconcile(day=cn_today(), gateway="wechat", actor=operator)
    assert (run.ok, run.matched, run.discrepancies) == (True, 2, [])
    wechat.refunds.clear()  # WeChat's bill no longer shows the refund
    run = reconcile(day=cn_today(), gateway="wechat", actor=operator)
    assert [p["type"] for p in run.discrepancies] == ["missing_at_gateway"]


def test_wechat_close_and_not_configured(wechat, customer, open_slot, settings):
    customer.wx_openid = "o-customer-2"
    customer.save()
    order = book(customer, open_slot)
    _, paid = start(customer, order["id"], "wechat")
    payment = Payment.objects.get(out_trade_no=paid["out_trade_no"])
    get_gateway("wechat").close(payment)
    assert wechat.orders[payment.out_trade_no]["state"] == "CLOSED"
    settings.YUYUE_WECHATPAY = {}
    before = Payment.objects.count()
    status, problem = start(customer, book(customer, open_slot)["id"], "wechat")
    assert (status, problem["code"]) == (409, "gateway_not_configured")
    status, problem = api_for(customer).post(
        "/api/payments", {"top_up_fen": 100, "gateway": "wechat"}
    )
    assert (status, problem["code"]) == (409, "gateway_not_configured")
    assert Payment.objects.count() == before


def test_alipay_end_to_end(alipay, customer, open_slot, operator):
    order = book(customer, open_slot)
    status, paid = start(customer, order["id"], "alipay")
    assert status == 201, paid
    number = alipay.paid(paid["params"]["order_string"])  # checks our signature
    assert number == paid["out_trade_no"]
    assert paid["params"]["pay_url"].startswith(alipay.url + "/gateway.do?")
    payment = Payment.objects.get(out_trade_no=number)
    form = "application/x-www-form-urlencoded"

    for bad in (
        alipay.notification(number, signer=KeyPair()),
        alipay.notification(number, app_id="2021999999999999"),
    ):
        status, content = post_notify("alipay", {}, bad, form)
        assert status == 400 and json.loads(content)["code"] == "bad_signature"
    status, content = post_notify(
        "alipay", {}, alipay.notification(number, total_amount="0.01"), form
    )
    assert json.loads(content)["code"] == "amount_mismatch"
    payment.refresh_from_db()
    assert payment.status == "created"

    good = alipay.notification(number)
    for _ in range(2):
        status, content = post_notify("alipay", {}, good, form)
        assert (status, content) == (200, b"success")
    payment.refresh_from_db()
    assert payment.status == "paid" and payment.gateway_txn_id == alipay.orders[number]["trade_no"]

    assert get_gateway("alipay").query(payment)["amount_fen"] == 2000
    for _ in range(2):
        status, body = api_for(operator).post(
            f"/api/ops/bookings/{order['id']}/refunds",
            {"amount_fen": 1999, "reason": "all but a fen"},
            headers={"Idempotency-Key": "ali-r1"},
        )
        assert status in (200, 201), body
    assert [c["refund_amount"] for c in alipay.refund_calls] == ["19.99"]
    run = reconcile(day=cn_today(), gateway="alipay", actor=operator)
    assert (run.ok, run.matched, run.discrepancies) == (True, 2, [])
    alipay.orders[number]["total_amount"] = "19.00"  # Alipay's bill says otherwise
    run = reconcile(day=cn_today(), gateway="alipay", actor=operator)
    assert [(p["type"], p["amount_fen"]) for p in run.discrepancies] == [("amount_mismatch", 1900)]
    get_gateway("alipay").close(payment)
    assert alipay.orders[number]["state"] == "TRADE_CLOSED"


def test_unknown_order_is_refused(alipay, customer):
    alipay.orders["nope"] = {"total_amount": "1.00", "trade_no": "t", "state": "TRADE_SUCCESS"}
    status, content = post_notify(
        "alipay", {}, alipay.notification("nope"), "application/x-www-form-urlencoded"
    )
    assert status == 404 and json.loads(content)["code"] == "unknown_payment"


def paid_with_wechat(wechat, customer, slot) -> tuple[dict, Payment]:
    customer.wx_openid = customer.wx_openid or f"o-{customer.pk}"
    customer.save()
    order = book(customer, slot)
    status, paid = start(customer, order["id"], "wechat")
    assert status == 201, paid
    status, content = post_notify("wechat", *wechat.notification(paid["out_trade_no"]))
    assert status == 200 and json.loads(content)["result"] == "paid", content
    return order, Payment.objects.get(out_trade_no=paid["out_trade_no"])


def test_wechat_stale_and_unknown_notifications_are_refused(wechat, customer, open_slot):
    customer.wx_openid = "o-stale"
    customer.save()
    order = book(customer, open_slot)
    _, paid = start(customer, order["id"], "wechat")
    number = paid["out_trade_no"]
    # correctly signed, but sent six minutes ago: a replay (WeChat's SDKs allow 5 minutes)
    stale = wechat.notification(number, sent_at=time_ago(360))
    status, content = post_notify("wechat", *stale)
    assert (status, json.loads(content)["code"]) == (400, "bad_signature")
    # correctly signed and fresh, for an order we never made
    wechat.orders["yy-not-ours"] = {**wechat.orders[number]}
    status, content = post_notify("wechat", *wechat.notification("yy-not-ours"))
    assert (status, json.loads(content)["code"]) == (404, "unknown_payment")
    assert Payment.objects.get(out_trade_no=number).status == "created"
    status, _ = post_notify("wechat", *wechat.notification(number, sent_at=time_ago(200)))
    assert status == 200  # within five minutes is fine
    assert Payment.objects.get(out_trade_no=number).status == "paid"


def time_ago(seconds: int) -> float:
    return timezone.now().timestamp() - seconds


def test_wechat_refund_notifications(wechat, customer, open_slot, operator):
    """WeChat Pay tells the refund's notify URL (ours) how each refund ended: recorded once, an
    abnormal one audited for operators; none of them is mistaken for a payment's outcome."""
    from yuyue.core.models import AuditLog

    order, payment = paid_with_wechat(wechat, customer, open_slot)
    status, body = api_for(operator).post(
        f"/api/ops/bookings/{order['id']}/refunds",
        {"amount_fen": 700, "reason": "part"},
        headers={"Idempotency-Key": "wx-n1"},
    )
    assert status == 201, body
    (call,) = wechat.refund_calls
    assert call["notify_url"].endswith("/api/payments/notify/wechat")
    note = wechat.refund_notification(call["out_refund_no"])
    for _ in range(2):
        status, content = post_notify("wechat", *note)
        assert (status, json.loads(content)["result"]) == (200, "refund_success")
    forged = wechat.refund_notification(call["out_refund_no"], signer=KeyPair())
    assert post_notify("wechat", *forged)[0] == 400
    status, content = post_notify(
        "wechat", *wechat.refund_notification(call["out_refund_no"], status="ABNORMAL")
    )
    assert (status, json.loads(content)["result"]) == (200, "refund_abnormal")
    logged = AuditLog.objects.get(action="refund.abnormal")
    assert logged.target_id == str(Refund.objects.get().pk)
    # a refund we never asked for
    wechat.refunds["yyr-not-ours"] = {**wechat.refunds[call["out_refund_no"]]}
    status, content = post_notify("wechat", *wechat.refund_notification("yyr-not-ours"))
    assert (status, json.loads(content)["code"]) == (404, "unknown_refund")
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_fen) == ("paid", 700)


def test_refund_resumes_after_gateway_failure(wechat, customer, open_slot, operator):
    """WeChat Pay fails the first refund request: the operator sees the gateway's problem, no
    money moved in our books; retrying with the same key finishes that refund, with the same
    out_refund_no, once."""
    from yuyue.billing.refunds import escrow_held

    order, payment = paid_with_wechat(wechat, customer, open_slot)
    wechat.fail_refunds = 1
    api = api_for(operator)
    url = f"/api/ops/bookings/{order['id']}/refunds"
    status, problem = api.post(
        url, {"amount_fen": 2000, "reason": "all"}, headers={"Idempotency-Key": "wx-f1"}
    )
    assert (status, problem["code"]) == (502, "gateway_error")
    assert escrow_held(order["id"]) == 2000 and not wechat.refunds
    for _ in range(2):
        status, body = api.post(
            url, {"amount_fen": 2000, "reason": "all"}, headers={"Idempotency-Key": "wx-f1"}
        )
        assert status == 201 and body["gateway_refund_id"], body
    assert [c["out_refund_no"] for c in wechat.refund_calls] == [
        wechat.refund_calls[0]["out_refund_no"]
    ] * 2  # the failed one and its retry; the repeat after success asked nothing
    assert len(wechat.refunds) == 1 and escrow_held(order["id"]) == 0
    payment.refresh_from_db()
    assert payment.refunded_fen == 2000 and Refund.objects.count() == 1


def test_merchant_with_its_own_keys(settings, customer, open_slot, merchant, operator):
    """A merchant with its own WeChat Pay and Alipay accounts is paid there; a notification
    from the platform's account about that merchant's order is refused."""
    platform, own = FakeWeChatPay().start(), FakeWeChatPay(mchid="1900000001").start()
    ali_platform, ali_own = FakeAlipay().start(), FakeAlipay(appid="2021000000000777").start()
    try:
        settings.YUYUE_WECHATPAY = {
            **platform.settings(),
            "merchants": {str(merchant.pk): own.settings()["platform"]},
        }
        settings.YUYUE_ALIPAY = {
            **ali_platform.settings(),
            "merchants": {str(merchant.pk): ali_own.settings()["platform"]},
        }
        customer.wx_openid = "o-own"
        customer.save()
        order = book(customer, open_slot)
        _, paid = start(customer, order["id"], "wechat")
        number = paid["out_trade_no"]
        assert number in own.orders and not platform.orders
        assert own.merchant.verifies(
            "\n".join(paid["params"][k] for k in ("appId", "timeStamp", "nonceStr", "package"))
            + "\n",
            paid["params"]["paySign"],
        )
        platform.orders[number] = {**own.orders[number]}  # as if paid to the platform's account
        status, content = post_notify("wechat", *platform.notification(number))
        assert (status, json.loads(content)["code"]) == (400, "bad_signature")
        assert post_notify("wechat", *own.notification(number))[0] == 200
        status, _ = api_for(operator).post(
            f"/api/ops/bookings/{order['id']}/refunds",
            {"amount_fen": 100, "reason": "x"},
            headers={"Idempotency-Key": "own-1"},
        )
        assert status == 201 and len(own.refund_calls) == 1 and not platform.refund_calls

        order = book(customer, open_slot)
        _, paid = start(customer, order["id"], "alipay")
        number = ali_own.paid(paid["params"]["order_string"])  # signed with the merchant's key
        ali_platform.orders[number] = {**ali_own.orders[number]}
        form = "application/x-www-form-urlencoded"
        status, content = post_notify("alipay", {}, ali_platform.notification(number), form)
        assert (status, json.loads(content)["code"]) == (400, "bad_signature")
        assert post_notify("alipay", {}, ali_own.notification(number), form)[0] == 200
        assert Payment.objects.get(out_trade_no=number).status == "paid"
    finally:
        for fake in (platform, own, ali_platform, ali_own):
            fake.stop()


def test_alipay_tampered_and_not_configured(alipay, customer, open_slot, settings):
    from urllib.parse import parse_qsl, urlencode

    order = book(customer, open_slot)
    _, paid = start(customer, order["id"], "alipay")
    number = alipay.paid(paid["params"]["order_string"])
    fields = dict(parse_qsl(alipay.notification(number).decode()))
    fields["total_amount"] = "0.01"  # changed on the way, signature kept
    status, content = post_notify(
        "alipay", {}, urlencode(fields).encode(), "application/x-www-form-urlencoded"
    )
    assert (status, json.loads(content)["code"]) == (400, "bad_signature")
    assert Payment.objects.get(out_trade_no=number).status == "created"
    settings.YUYUE_ALIPAY = {}
    status, problem = start(customer, book(customer, open_slot)["id"], "alipay")
    assert (status, problem["code"]) == (409, "gateway_not_configured")
    status, content = post_notify(
        "alipay", {}, alipay.notification(number), "application/x-www-form-urlencoded"
    )
    assert (status, json.loads(content)["code"]) == (400, "bad_signature")


@pytest.mark.django_db(transaction=True)
def test_cancellation_refund_retried_after_gateway_failure(wechat, customer, open_slot):
    """The job refunding a cancelled order meets a failing WeChat Pay: it runs again ten minutes
    later and refunds what it claimed — not 'what is left' (nothing, once claimed), which would
    have kept the customer's money as a cancellation fee."""
    from django.core.management import call_command
    from django_tasks_db.models import DBTaskResult

    from yuyue.billing import ledger
    from yuyue.billing.models import AccountKind, Transfer
    from yuyue.billing.refunds import escrow_held

    open_slot.service.cancel_policy = "any_time"
    open_slot.service.save()
    order, payment = paid_with_wechat(wechat, customer, open_slot)
    wechat.fail_refunds = 1
    assert api_for(customer).post(f"/api/bookings/{order['id']}/cancel", {})[0] == 200
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    assert escrow_held(order["id"]) == 2000 and not wechat.refunds
    assert not Transfer.objects.filter(key=f"order:{order['id']}:kept").exists()
    again = DBTaskResult.objects.get(
        status="READY", task_path__endswith="refund_cancelled_order_job"
    )
    assert again.args_kwargs["args"] == [order["id"], 2]
    assert again.run_after > timezone.now() + dt.timedelta(minutes=9)

    DBTaskResult.objects.filter(pk=again.pk).update(run_after=timezone.now())
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    (refund,) = wechat.refunds.values()
    assert refund["amount"]["refund"] == 2000 and len(wechat.refund_calls) == 2
    assert escrow_held(order["id"]) == 0
    assert ledger.account(AccountKind.PLATFORM_REVENUE).balance == 0  # nothing kept
    payment.refresh_from_db()
    assert payment.refunded_fen == 2000
    assert ledger.unbalanced_transfers() == []
