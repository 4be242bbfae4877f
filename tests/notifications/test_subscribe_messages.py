"""WeChat subscribe messages through a local stand-in that speaks WeChat's protocol
(/cgi-bin/token, /cgi-bin/message/subscribe/send): sent only with a credit, the credit spent
once; values cut to WeChat's limits; 43101 voids the credits; a passing failure is tried again
later with its credit back; nothing sent for a notice read or no longer true, or a kind turned
off; two workers at once send each message once (the control, a naive claim, sends some
twice)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from http.server import ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connections
from django.test import Client
from django.utils import timezone

from tests.conftest import make_user
from tests.standins import JsonStandIn
from yuyue.accounts.tokens import issue_token
from yuyue.notifications import delivery
from yuyue.notifications.models import Delivery, Notice, SubscribeCredit
from yuyue.notifications.sending import notify


class FakeWechat(JsonStandIn):
    """Tokens for the right app; a send answers by the openid: o-refuse → 43101, o-busy → -1
    (system busy) once, o-slow waits a moment (two workers overlap), others 0."""

    sent: list[dict] = []
    busy_once: set[str] = set()
    lock = threading.Lock()

    def do_GET(self):  # noqa: N802
        query = parse_qs(urlparse(self.path).query)
        if urlparse(self.path).path == "/cgi-bin/token" and query.get("appid") == ["wxdemo"]:
            self.reply({"access_token": "tok-1", "expires_in": 7200})
        else:
            self.reply({"errcode": 40013, "errmsg": "invalid appid"})

    def do_POST(self):  # noqa: N802
        url = urlparse(self.path)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if url.path != "/cgi-bin/message/subscribe/send":
            return self.reply({"errcode": 404, "errmsg": "no such api"})
        if parse_qs(url.query).get("access_token") != ["tok-1"]:
            return self.reply({"errcode": 40001, "errmsg": "invalid credential"})
        openid = body["touser"]
        if openid == "o-refuse":
            return self.reply({"errcode": 43101, "errmsg": "user refuse to accept the msg"})
        with self.lock:
            if openid in self.busy_once:
                self.busy_once.discard(openid)
                return self.reply({"errcode": -1, "errmsg": "system error"})
        if openid == "o-slow":
            threading.Event().wait(0.3)
        with self.lock:
            self.sent.append(body)
        self.reply({"errcode": 0, "errmsg": "ok"})


TEMPLATE = {
    "id": "TPL-reminder",
    "page": "pages/booking/index?id={booking}",
    "data": {"thing1": "{service}", "time2": "{starts_at}", "phrase3": "{state}"},
}


@pytest.fixture
def wechat(settings):
    FakeWechat.sent, FakeWechat.busy_once = [], set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeWechat)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.WECHAT_API_BASE = f"http://127.0.0.1:{server.server_port}"
    settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET = "wxdemo", "secret"
    # "order.news" has no "still true" check; a reminder's is its booking's state (orders)
    settings.YUYUE_WECHAT_TEMPLATES = {"order.news": TEMPLATE, "booking.reminder": TEMPLATE}
    settings.YUYUE_DELIVERY_RETRY_SECONDS = 30
    settings.YUYUE_SMS_KINDS = set()  # WeChat alone here (texts: test_sms.py)
    yield FakeWechat
    server.shutdown()


def person(openid: str):
    return make_user(f"Person {openid}", wx_openid=openid)


def remind(user, kind="order.news", **extra):
    payload = {
        "booking": 7,
        "service": "护照办理预约（成人首次申领）",
        "starts_at": "2026-12-08T02:00:00+00:00",
        "state": "即将开始办理",
    }
    notify(user.pk, kind, **{**payload, **extra})


def test_sent_once_per_credit_with_values_cut_to_wechats_limits(wechat, db):
    who = person("o-1")
    delivery.grant(actor=who, templates=["order.news"])
    remind(who)
    remind(who)  # a second message: no credit left for it
    assert delivery.send_due() == {"sent": 1, "skipped": 1}
    [body] = wechat.sent
    assert body["touser"] == "o-1" and body["template_id"] == "TPL-reminder"
    assert body["page"] == "pages/booking/index?id=7"
    assert body["data"] == {
        "thing1": {"value": "护照办理预约（成人首次申领）"},  # 14 characters: within 20
        "time2": {"value": "2026-12-08 10:00"},  # on the platform's clock
        "phrase3": {"value": "即将开始…"},  # a phrase is at most 5
    }
    assert SubscribeCredit.objects.get(user=who).count == 0
    assert sorted(Delivery.objects.values_list("status", "note")) == [
        ("sent", ""),
        ("skipped", "no credit"),
    ]
    assert delivery.send_due() == {}  # nothing is sent twice


def test_refused_voids_the_credits_and_busy_is_tried_later(wechat, db):
    refuser, busy = person("o-refuse"), person("o-busy")
    for who in (refuser, busy):
        delivery.grant(actor=who, templates=["order.news"])
        delivery.grant(actor=who, templates=["order.news"])
    wechat.busy_once.add("o-busy")
    remind(refuser)
    remind(busy)
    assert delivery.send_due() == {"refused": 1, "retry": 1}
    assert SubscribeCredit.objects.get(user=refuser).count == 0  # 43101: none left
    assert SubscribeCredit.objects.get(user=busy).count == 2  # given back
    waiting = Delivery.objects.get(notice__user=busy)
    assert waiting.status == "pending" and waiting.next_try_at > timezone.now()
    assert delivery.send_due() == {}  # not yet
    Delivery.objects.filter(pk=waiting.pk).update(next_try_at=timezone.now())
    assert delivery.send_due() == {"sent": 1}
    assert [b["touser"] for b in wechat.sent] == ["o-busy"]


def test_nothing_sent_for_what_was_read_or_is_no_longer_true_or_turned_off(
    wechat, customer, hall_service, hall
):
    from yuyue.orders.placing import book_slot
    from yuyue.scheduling.models import TimeSlot

    reader, off = person("o-read"), person("o-off")
    cancelled = person("o-cancelled")
    for who in (reader, off):
        delivery.grant(actor=who, templates=["order.news"])
    delivery.grant(actor=cancelled, templates=["booking.reminder"])
    remind(reader)
    Notice.objects.filter(user=reader).update(read_at=timezone.now())
    delivery.set_muted(actor=off, kind="order.news", muted=True)
    remind(off)  # turned off: no delivery at all
    start = timezone.now() + dt.timedelta(days=1)
    slot = TimeSlot.objects.create(
        service=hall_service, hall=hall, starts_at=start, ends_at=start + dt.timedelta(hours=1)
    )
    booking = book_slot(actor=cancelled, slot_id=slot.pk, places=1, participants=None)
    remind(cancelled, "booking.reminder", booking=booking.pk)
    from yuyue.orders.cancelling import cancel_booking

    cancel_booking(actor=cancelled, booking_id=booking.pk)
    assert delivery.send_due() == {"skipped": 2}
    assert sorted(Delivery.objects.values_list("note", flat=True)) == [
        "no longer true",
        "read in the app",
    ]
    assert wechat.sent == [] and not Delivery.objects.filter(notice__user=off).exists()
    assert SubscribeCredit.objects.get(user=reader).count == 1  # kept for a message sent


def test_no_openid_no_template_no_delivery(wechat, settings, db):
    remind(make_user("No WeChat"))
    settings.YUYUE_WECHAT_TEMPLATES = {"order.news": {**TEMPLATE, "id": ""}}
    remind(person("o-2"))
    assert not Delivery.objects.exists()


def _two_workers() -> list:
    out = []

    def work():
        try:
            out.append(delivery.send_due())
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return out


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_send_each_message_once(wechat):
    people = [person("o-slow") for _ in range(1)] + [person(f"o-{i}") for i in range(6)]
    for who in people:
        delivery.grant(actor=who, templates=["order.news"])
        delivery.grant(actor=who, templates=["order.news"])
        remind(who)
    _two_workers()
    assert sorted(b["touser"] for b in wechat.sent) == sorted(p.wx_openid for p in people)
    assert set(Delivery.objects.values_list("status", flat=True)) == {"sent"}
    assert all(c.count == 1 for c in SubscribeCredit.objects.all())  # one spent each


@pytest.mark.django_db(transaction=True)
def test_control_a_naive_claim_sends_some_twice(wechat, settings):
    settings.YUYUE_RACE_CONTROLS = "tests.concurrency.unguarded"
    people = [person(f"o-{i}") for i in range(6)]
    for who in people:
        for _ in range(3):
            delivery.grant(actor=who, templates=["order.news"])
        remind(who)
    _two_workers()
    assert len(wechat.sent) > len(people)


def test_the_api_records_acceptances_and_turns_a_kind_off(wechat, db):
    who = person("o-api")
    api = Client()
    auth = {"HTTP_AUTHORIZATION": f"Bearer {issue_token(user=who, via='password')[0]}"}
    body = {"templates": ["order.news"]}
    r = api.post("/api/me/subscriptions", body, content_type="application/json", **auth)
    assert r.json() == {"credits": {"order.news": 1}}
    bad = {"templates": ["no.such.kind"]}
    r = api.post("/api/me/subscriptions", bad, content_type="application/json", **auth)
    assert (r.status_code, r.json()["code"]) == (404, "template_unknown")
    off = {"kind": "order.news", "muted": True}
    r = api.put("/api/me/notice-settings", off, content_type="application/json", **auth)
    assert r.status_code == 200
    remind(who)
    assert not Delivery.objects.exists()


def test_the_profile_page_turns_wechat_reminders_off_and_on(wechat, db):
    from yuyue.notifications.models import NoticeMute

    who = person("o-page")
    page = Client()
    page.force_login(who)
    shown = page.get("/my/profile/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'name="kinds" value="wechat:booking.reminder" checked' in shown
    page.post("/my/profile/", {"action": "wechat", "kinds": ["wechat:order.news"]})
    assert list(NoticeMute.objects.filter(user=who).values_list("kind", "channel")) == [
        ("booking.reminder", "wechat")
    ]
    remind(who, "booking.reminder")
    assert not Delivery.objects.exists()  # turned off: not sent through WeChat
    both = ["wechat:order.news", "wechat:booking.reminder"]
    page.post("/my/profile/", {"action": "wechat", "kinds": both})
    assert not NoticeMute.objects.exists()
