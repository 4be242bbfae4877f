"""A consultant's calls page at phone size: the calls to come with their join button, and each
held call's record — how long the meter ran, what it charged, what it earned the consultant —
with its timeline; another consultant's call is a 404."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from tests.calls.conftest import move_to_now
from tests.calls.test_meter_and_bill import both_join, talk
from tests.conftest import make_user
from tests.web.conftest import PHONE, axe_violations, shoot
from tests.web.test_customer_pages import off_the_loop, with_password
from yuyue.accounts.models import Provider
from yuyue.billing.settlement import settle_order
from yuyue.calls import services as calls

S = dt.timedelta(seconds=1)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_consultant_sees_calls_to_come_and_the_record_of_each_held(
    language, live_server, chromium, book_call, consultant, merchant
):
    def calls_held_and_to_come():
        merchant.commission_bp, merchant.provider_share_bp = 2000, 5000
        merchant.save()
        held = book_call(minutes=15, hours=3)
        t0 = held.starts_at
        both_join(held, t0)
        talk(held, t0, 65)
        calls.hangup(actor=held.customer, booking_id=held.pk, now=t0 + 65 * S)
        settle_order(booking_id=held.pk)  # 130 fen: 20 % commission, half the rest is Gao's
        return held, move_to_now(book_call(minutes=30, hours=5), lead_minutes=10)

    held, coming = off_the_loop(calls_held_and_to_come)

    english = language == "en"
    page = chromium.new_context(viewport=PHONE, locale="en-US" if english else "zh-CN").new_page()
    with_password(page, live_server.url, consultant.user, "/pro/", "Sign in" if english else "登录")
    page.get_by_role("link", name="Calls" if english else "通话").click()
    page.wait_for_url(re.compile(r"/pro/calls/$"))
    upcoming = page.locator(f"#upcoming [data-call='{coming.pk}']")
    assert ("30 min" if english else "30分") in upcoming.inner_text()
    record = page.locator(f"#held [data-call='{held.pk}']")
    assert ("1 min 5 s" if english else "1分5秒") in record.inner_text()
    assert "¥0.52" in record.inner_text()
    shoot(page, f"consultant-{language}-calls")
    assert axe_violations(page) == []

    record.get_by_role("link").click()
    page.wait_for_url(re.compile(rf"/pro/calls/{held.pk}/$"))
    assert page.inner_text("#charged") == "¥1.30"
    assert page.inner_text("#earned") == "¥0.52"
    assert page.inner_text("#ended") == ("The customer hung up" if english else "客户挂断")
    timeline = page.inner_text("#timeline")
    assert ("The meter started" if english else "开始计时") in timeline
    assert ("You: joined" if english else "您：进入") in timeline
    shoot(page, f"consultant-{language}-call-record")
    assert axe_violations(page) == []

    page.goto(f"{live_server.url}/pro/calls/")
    page.locator(f"#upcoming [data-call='{coming.pk}']").get_by_role("button").click()
    page.wait_for_url(re.compile(rf"/calls/{coming.pk}/#token="))


@pytest.mark.django_db
def test_another_consultants_call_record_is_not_found(book_call, merchant, call_service):
    held = book_call(minutes=15)
    other = Provider.objects.create(
        user=make_user("Lawyer Lin"), merchant=merchant, display_name="Lin", verified=True
    )
    other.services.add(call_service)
    client = Client()
    client.force_login(other.user)
    assert client.get(f"/pro/calls/{held.pk}/").status_code == 404
    page = client.get("/pro/calls/").content.decode()
    assert f'data-call="{held.pk}"' not in page
    client.force_login(held.provider.user)
    assert f'data-call="{held.pk}"' in client.get("/pro/calls/").content.decode()
