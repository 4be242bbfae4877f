"""The pay page through the real gateways' protocols (local stand-ins with real keys): inside
WeChat, a customer signed in with WeChat gets WeChat Pay's JSAPI parameters in the page (the same
signed `wx.requestPayment` parameters the API gives a mini-program); Alipay's checkout is a
redirect to its signed page; outside WeChat, or without keys, the page does not offer them."""

from __future__ import annotations

import json
import re

from django.test import Client

from tests.billing.test_gateways import alipay, wechat  # noqa: F401 - the fixtures
from tests.billing.test_payments import book
from yuyue.billing.models import Payment

WECHAT_UA = "Mozilla/5.0 (iPhone) AppleWebKit/605.1.15 MicroMessenger/8.0.50 NetType/WIFI"


def page_for(user, agent="Mozilla/5.0 (iPhone) Safari/604.1") -> Client:
    client = Client(HTTP_USER_AGENT=agent)
    client.force_login(user)
    return client


def test_wechat_pay_inside_wechat(wechat, customer, open_slot, settings):  # noqa: F811
    settings.YUYUE_SANDBOX_PAYMENTS = False
    order = book(customer, open_slot)
    url = f"/my/bookings/{order['id']}/pay/"
    assert b'value="wechat"' not in page_for(customer, WECHAT_UA).get(url).content  # no openid
    customer.wx_openid = "o-fuzz-1"
    customer.save()
    assert b'value="wechat"' not in page_for(customer).get(url).content  # not inside WeChat
    inside = page_for(customer, WECHAT_UA)
    assert b'value="wechat"' in inside.get(url).content
    got = inside.post(url, {"how": "wechat", "coupon": "auto"})
    assert got.status_code == 200
    params = json.loads(
        re.search(
            rb'<script id="wechat-params" type="application/json">(.*?)</script>', got.content, re.S
        ).group(1)
    )
    assert set(params) == {"appId", "timeStamp", "nonceStr", "package", "signType", "paySign"}
    assert params["package"].startswith("prepay_id=") and params["signType"] == "RSA"
    payment = Payment.objects.get(booking_id=order["id"], gateway="wechat")
    assert payment.status == "created" and payment.amount_fen == 2000


def test_alipay_checkout_is_a_redirect(alipay, customer, open_slot, settings):  # noqa: F811
    settings.YUYUE_SANDBOX_PAYMENTS = False
    order = book(customer, open_slot)
    url = f"/my/bookings/{order['id']}/pay/"
    page = page_for(customer)
    assert b'value="alipay"' in page.get(url).content
    got = page.post(url, {"how": "alipay"})
    assert got.status_code == 302 and "out_trade_no" in got["Location"]
    assert Payment.objects.get(booking_id=order["id"]).gateway == "alipay"


def test_no_keys_no_gateway_buttons(customer, open_slot, settings):
    settings.YUYUE_SANDBOX_PAYMENTS = False
    settings.YUYUE_WECHATPAY, settings.YUYUE_ALIPAY = {}, {}
    order = book(customer, open_slot)
    url = f"/my/bookings/{order['id']}/pay/"
    html = page_for(customer, WECHAT_UA).get(url).content
    assert b'value="alipay"' not in html and b'value="wechat"' not in html
    assert page_for(customer).post(url, {"how": "alipay"}).status_code == 400
    assert not Payment.objects.exists()
