"""Chat in Chromium at phone size: a customer and their provider talk live in two browsers (the
message, its masked phone number, the unread badge and the read mark arrive without a reload);
a customer asks a merchant's desk, a clerk finds it in the queue and answers with a picture and
the customer sends the order's card (the pages without their socket: plain forms)."""

from __future__ import annotations

import re

import pytest
from PIL import Image

from tests.conftest import make_user
from tests.engagement.test_reviews import finished
from tests.livesrv import LiveServer, current_database_url
from tests.web.conftest import PHONE, axe_violations, loaded_width, shoot
from tests.web.test_customer_pages import with_password
from yuyue.accounts.models import MerchantStaff, Provider, StaffRole
from yuyue.engagement.models import Message, Receipt
from yuyue.orders.models import BookingStatus


@pytest.fixture
def order(customer, onsite_service, merchant):
    from django.contrib.auth.hashers import make_password

    worker = make_user("Cleaner Zhou", password="s3cret-pass")
    provider = Provider.objects.create(
        user=worker, merchant=merchant, display_name="周师傅", verified=True
    )
    provider.services.add(onsite_service)
    customer.password = make_password("s3cret-pass")
    customer.name = "陈小姐"
    customer.save(update_fields=["password", "name"])
    return finished(customer, onsite_service, provider, status=BookingStatus.ACCEPTED, days_ago=-1)


@pytest.mark.django_db(transaction=True)
def test_customer_and_provider_talk_live_and_see_it_read(order, chromium):
    server = LiveServer(current_database_url(), asgi=True).start()
    try:
        me = chromium.new_context(viewport=PHONE, locale="zh-CN").new_page()
        with_password(me, server.url, order.customer, f"/my/bookings/{order.pk}/", "登录")
        pro = chromium.new_context(viewport=PHONE, locale="en-US").new_page()
        with_password(pro, server.url, order.provider.user, f"/pro/orders/{order.pk}/", "Sign in")
        pro.wait_for_function("document.body.dataset.notices === 'live'")

        me.get_by_role("button", name="联系服务人员").click()
        me.wait_for_url(re.compile(r"/chat/\d+/$"))
        me.wait_for_selector("#chat-live[data-live='1']")
        assert "周师傅" in me.inner_text("#chat-title")
        me.fill("#chat-text", "师傅您好，我的电话 13812345678，门铃坏了请敲门")
        me.keyboard.press("Enter")
        mine = me.locator(".msg.mine").last
        mine.locator(".tick", has_text="未读").wait_for()  # stored: sent, not read yet
        assert "138****5678" in mine.inner_text() and "13812345678" not in me.content()

        # the provider's open order page hears of it: the header's badge, without a reload
        pro.wait_for_selector("#chats-link .badge")
        assert pro.inner_text("#chats-link .badge") == "1"
        shoot(pro, "chat-en-provider-badge")
        pro.get_by_role("button", name="Message the customer").click()
        pro.wait_for_url(re.compile(r"/chat/\d+/$"))
        assert "陈**" in pro.inner_text("#chat-title")  # the customer's first name only
        assert "138****5678" in pro.inner_text("#messages")
        # the customer's page sees it read, without a reload
        me.wait_for_selector(".msg.mine .tick[data-read='1']")
        assert me.inner_text(".msg.mine .tick") == "已读"

        pro.wait_for_selector("#chat-live[data-live='1']")
        pro.fill("#chat-text", "OK, I will knock. On my way at 10.")
        pro.get_by_role("button", name="Send", exact=True).click()
        me.wait_for_selector(".msg.theirs")
        assert "I will knock" in me.inner_text(".msg.theirs")
        pro.wait_for_selector(".msg.mine .tick[data-read='1']")  # read at once: the page is open
        assert Message.objects.count() == 2
        assert Receipt.objects.filter(read_at__isnull=True).count() == 0
        shoot(me, "chat-zh-customer")
        shoot(pro, "chat-en-provider")
        assert axe_violations(me) == [] and axe_violations(pro) == []

        me.goto(f"{server.url}/chat/")
        row = me.locator("#chats li").first
        assert "周师傅" in row.inner_text() and row.locator(".badge").count() == 0
        shoot(me, "chat-zh-list")
        assert axe_violations(me) == []
    finally:
        server.stop()


@pytest.mark.django_db(transaction=True)
def test_a_customer_asks_the_shop_and_a_clerk_answers_with_a_picture(
    order, merchant, live_server, chromium, tmp_path
):
    clerk = make_user("Clerk Sun", password="s3cret-pass")
    MerchantStaff.objects.create(user=clerk, merchant=merchant, role=StaffRole.CLERK)
    png = tmp_path / "price-list.png"
    Image.new("RGB", (900, 600), (240, 200, 80)).save(png)

    me = chromium.new_context(viewport=PHONE, locale="en-US").new_page()
    with_password(me, live_server.url, order.customer, f"/my/bookings/{order.pk}/", "Sign in")
    me.get_by_role("button", name="Ask the merchant").click()
    me.wait_for_url(re.compile(r"/chat/\d+/$"))
    me.fill("#chat-text", "Do you clean windows too?")
    me.get_by_role("button", name="Send", exact=True).click()  # no socket here: the form posts
    me.wait_for_selector(".msg.mine")
    me.locator("summary").click()
    me.select_option("#chat-card", str(order.pk))
    me.get_by_role("button", name="Send the order").click()
    me.wait_for_selector(".msg.mine .order-card")
    assert order.code in me.inner_text(".order-card")

    desk = chromium.new_context(viewport=PHONE, locale="zh-CN").new_page()
    with_password(desk, live_server.url, clerk, "/shop/support/", "登录")
    row = desk.locator("#queue li").first
    assert row.get_attribute("data-unread") == "2" and "陈小姐" in row.inner_text()
    shoot(desk, "chat-zh-desk-queue")
    assert axe_violations(desk) == []
    row.locator("a").click()
    desk.wait_for_url(re.compile(r"/chat/\d+/$"))
    assert "Do you clean windows too?" in desk.inner_text("#messages")
    desk.locator("summary").click()
    desk.set_input_files("#chat-picture", str(png))
    desk.get_by_role("button", name="发送图片").click()
    desk.wait_for_selector(".msg.mine img")
    assert desk.locator("#send-card").count() == 0  # orders are the customer's to send
    shoot(desk, "chat-zh-desk")

    me.reload()
    assert loaded_width(me, ".msg.theirs img") == 900  # a clean JPEG, its size kept
    assert me.inner_text(".msg.mine .tick").strip() == "Read"  # the desk read both
    shoot(me, "chat-en-shop")
    assert axe_violations(me) == []
    picture = me.locator(".msg.theirs img").get_attribute("src")
    stranger = chromium.new_context(viewport=PHONE).new_page()
    shown = stranger.goto(f"{live_server.url}{picture}")
    assert "/sign-in/" in stranger.url and "image" not in shown.headers["content-type"]
