"""Text messages through Alibaba Cloud's SMS API, served by a local stand-in that checks the
request's HMAC-SHA1 signature the way the service does: a notice is texted once by the
sending job, with the approved template and its variables; a refusal is tried again later; a
person who turned texts off for the kind gets none."""

from __future__ import annotations

import json
import threading
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qsl, urlparse

import pytest
from django.utils import timezone

from tests.conftest import make_user
from tests.standins import JsonStandIn
from yuyue.notifications import delivery
from yuyue.notifications.aliyun_sms import signature
from yuyue.notifications.models import Delivery
from yuyue.notifications.sending import notify

SECRET = "test-secret"


class FakeAliyun(JsonStandIn):
    received: list[dict] = []
    refuse_next = 0

    def do_GET(self):  # noqa: N802
        params = dict(parse_qsl(urlparse(self.path).query, keep_blank_values=True))
        given = params.pop("Signature", "")
        if given != signature(params, SECRET) or params.get("AccessKeyId") != "test-key":
            return self.reply({"Code": "SignatureDoesNotMatch", "Message": "bad signature"})
        if FakeAliyun.refuse_next:
            FakeAliyun.refuse_next -= 1
            return self.reply({"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "limit"})
        FakeAliyun.received.append(params)
        self.reply({"Code": "OK", "Message": "OK", "BizId": "900619746936498440^0"})


@pytest.fixture
def aliyun(settings):
    FakeAliyun.received, FakeAliyun.refuse_next = [], 0
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeAliyun)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.YUYUE_SMS_SENDER = "yuyue.notifications.aliyun_sms.AliyunSms"
    settings.ALIYUN_SMS_BASE = f"http://127.0.0.1:{server.server_port}"
    settings.ALIYUN_ACCESS_KEY_ID, settings.ALIYUN_ACCESS_KEY_SECRET = "test-key", SECRET
    settings.ALIYUN_SMS_SIGN_NAME = "约约"
    settings.ALIYUN_SMS_TEMPLATES = {
        "call.warning": {"code": "SMS_4242", "params": {"seconds": "seconds_left", "who": "name"}}
    }
    settings.YUYUE_SMS_KINDS = {"call.warning"}  # (a reminder's is its booking's: orders)
    settings.YUYUE_WECHAT_TEMPLATES = {}
    from yuyue.notifications.sms import _sender

    _sender.cache_clear()
    yield FakeAliyun
    server.shutdown()
    _sender.cache_clear()


def remind(user):
    notify(user.pk, "call.warning", seconds_left=60, name="陈老师")


def test_a_reminder_is_texted_once_with_the_approved_template(aliyun, db):
    who = make_user("Texted")
    remind(who)
    assert delivery.send_due() == {"sent": 1}
    assert delivery.send_due() == {}
    [sent] = aliyun.received
    assert sent["Action"] == "SendSms" and sent["TemplateCode"] == "SMS_4242"
    assert sent["PhoneNumbers"] == who.phone.removeprefix("+86") and sent["SignName"] == "约约"
    assert json.loads(sent["TemplateParam"]) == {"seconds": "60", "who": "陈老师"}


def test_a_refused_text_is_tried_again_later(aliyun, db):
    aliyun.refuse_next = 1
    remind(make_user("Limited"))
    assert delivery.send_due() == {"retry": 1}
    row = Delivery.objects.get()
    assert row.status == "pending" and "BUSINESS_LIMIT_CONTROL" in row.note
    Delivery.objects.update(next_try_at=timezone.now())
    assert delivery.send_due() == {"sent": 1}
    assert len(aliyun.received) == 1


def test_turned_off_no_text(aliyun, db):
    who = make_user("Quiet")
    delivery.set_muted(actor=who, kind="call.warning", muted=True, channel="sms")
    remind(who)
    assert not Delivery.objects.exists() and aliyun.received == []


def test_texts_of_reminders_are_turned_off_on_the_profile_page(aliyun, settings, db):
    from django.test import Client

    from yuyue.notifications.models import NoticeMute

    settings.YUYUE_SMS_KINDS = {"booking.reminder"}
    who = make_user("Page")
    page = Client()
    page.force_login(who)
    shown = page.get("/my/profile/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'value="sms:booking.reminder" checked' in shown and "by text message" in shown
    page.post("/my/profile/", {"action": "wechat"})  # nothing ticked: off
    assert list(NoticeMute.objects.values_list("kind", "channel")) == [("booking.reminder", "sms")]
