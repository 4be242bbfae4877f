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
    status, problem = start(customer, book(customer, open_slot)["id"], "wechat")
    assert (status, problem["code"]) == (409, "gateway_not_configured")


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
