"""A need in the task hall, in Chromium at phone size: a customer posts what they need with a
budget (fields checked next to each field, nothing typed lost), providers nearby apply (through
their API), the list of applicants updates by itself, the customer picks one and pays; nobody
else reaches the need."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from tests.calls.conftest import top_up
from tests.conftest import make_user
from tests.web.conftest import PHONE, axe_violations, shoot
from tests.web.test_customer_pages import off_the_loop, with_password
from yuyue.accounts.models import Provider
from yuyue.catalog.models import Category, Merchant, MerchantStatus, Service
from yuyue.dispatch import taskhall
from yuyue.dispatch.models import Need
from yuyue.orders.models import Booking
from yuyue.scheduling.models import WorkingHours

SH = ZoneInfo("Asia/Shanghai")
HOME = (31.2304, 121.4737)

WORDS = {
    "en": {
        "sign_in": "Sign in",
        "post": "Post the request",
        "fix": "Please correct the fields marked below.",
        "nobody": "Nobody has applied yet",
        "pick": "Pick Sun 孙师傅 for ¥260.00",
        "pay": "Pay ¥260.00 from my wallet",
        "picked": "Provider picked",
    },
    "zh-hans": {
        "sign_in": "登录",
        "post": "发布需求",
        "fix": "请修改下面标出的内容。",
        "nobody": "还没有人报名",
        "pick": "选择 Sun 孙师傅，¥260.00",
        "pay": "用钱包支付 ¥260.00",
        "picked": "已选定服务人员",
    },
}


@pytest.fixture
def movers(db):
    """Two movers near HOME who do an on-site service of the category "moving"."""
    merchant = Merchant.objects.create(
        name="快搬 Kuaiban", slug="kuaiban", status=MerchantStatus.ACTIVE
    )
    moving = Category.objects.create(name="搬家 Moving", slug="moving")
    service = Service.objects.create(
        merchant=merchant,
        category=moving,
        name="Moving help",
        kind="on_site",
        duration_minutes=180,
        base_price_fen=30000,
    )
    people = []
    for name, km, years in (("Sun 孙师傅", 2, 9), ("Qian 钱师傅", 4, 3)):
        p = Provider.objects.create(
            user=make_user(f"Mover {name}"),
            merchant=merchant,
            display_name=name,
            verified=True,
            experience_years=years,
            lat=HOME[0] + km / 111.2,
            lng=HOME[1],
            service_radius_km=10,
        )
        p.services.add(service)
        for d in range(7):
            WorkingHours.objects.create(provider=p, weekday=d, start=dt.time(7), end=dt.time(21))
        people.append(p)
    return moving, people


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_post_a_need_see_applicants_pick_and_pay(language, live_server, movers, chromium, settings):
    settings.YUYUE_SLOT_POLL_SECONDS = 1
    moving, (sun, qian) = movers
    t = WORDS[language]
    customer = make_user(f"Mover customer {language}", password="s3cret-pass")
    top_up(customer, 50_000)
    day = timezone.now().astimezone(SH).date() + dt.timedelta(days=3)
    context = chromium.new_context(
        viewport=PHONE,
        locale="zh-CN" if language == "zh-hans" else "en-US",
        geolocation={"latitude": HOME[0], "longitude": HOME[1]},
        permissions=["geolocation"],
    )
    page = context.new_page()
    with_password(page, live_server.url, customer, "/", t["sign_in"])
    page.locator("#task-hall a").click()
    page.wait_for_url(re.compile(r"/my/needs/new/"))
    # first without a budget or a location: said next to the fields, nothing typed lost
    page.select_option("#category", str(moving.pk))
    page.fill("#title", "两居室搬家 Two-room move")
    page.fill("#description", "3 楼，无电梯")
    page.fill("#date", f"{day:%Y-%m-%d}")
    page.fill("#time", "09:30")
    page.select_option("#duration", "240")
    page.fill("#address", "虹口区四川北路 1 号")
    page.get_by_role("button", name=t["post"]).click()
    page.wait_for_selector("#form-error")
    assert page.inner_text("#form-error") == t["fix"]
    assert page.locator("#budget[aria-invalid=true]").count() == 1
    assert page.locator("#where.field-error").count() == 1
    assert page.input_value("#title") == "两居室搬家 Two-room move"
    assert page.input_value("#address") == "虹口区四川北路 1 号"
    assert not Need.objects.exists()
    page.fill("#budget", "300")
    page.locator("#share-location").click()
    page.wait_for_function("document.querySelector('#need-form').lat.value !== ''")
    shoot(page, f"customer-{language}-need-new")
    assert axe_violations(page) == []
    page.get_by_role("button", name=t["post"]).click()
    page.wait_for_url(re.compile(r"/my/needs/\d+/$"))
    need = Need.objects.get(customer=customer)
    assert need.starts_at == dt.datetime.combine(day, dt.time(9, 30), SH)
    assert (need.budget_fen, need.duration_minutes, need.address) == (
        30000,
        240,
        "虹口区四川北路 1 号",
    )
    assert t["nobody"] in page.inner_text("#applicants")

    # two movers apply; the list shows them without a reload, cheapest first
    off_the_loop(taskhall.apply_to_need, actor=qian.user, need_id=need.pk, price_fen=28000)
    off_the_loop(
        taskhall.apply_to_need,
        actor=sun.user,
        need_id=need.pk,
        price_fen=26000,
        message="两个人，带推车",
    )
    page.wait_for_function(
        "document.querySelectorAll('#applications li[data-application]').length === 2"
    )
    first = page.locator("#applications li").first.inner_text()
    assert "Sun 孙师傅" in first and "两个人，带推车" in first and "¥260.00" in first
    shoot(page, f"customer-{language}-need-applicants")
    assert axe_violations(page) == []
    page.get_by_role("button", name=t["pick"]).click()
    page.wait_for_url(re.compile(r"/my/bookings/\d+/pay/"))
    page.get_by_role("button", name=t["pay"]).click()
    page.wait_for_url(re.compile(r"/my/bookings/\d+/\?paid=1"))
    booking = Booking.objects.get(customer=customer)
    assert (booking.channel, booking.provider_id, booking.price_fen) == ("task_hall", sun.pk, 26000)
    assert page.inner_text("#provider") == "Sun 孙师傅"
    page.goto(f"{live_server.url}/my/needs/{need.pk}/")
    assert page.inner_text("#state") == t["picked"]
    assert page.locator("#need-booking").count() == 1
    context.close()


def test_nobody_reaches_another_customers_need(movers):
    moving, (sun, _) = movers
    owner, stranger = make_user("Need owner"), make_user("Need stranger")
    need = taskhall.publish_need(
        actor=owner,
        category_id=moving.pk,
        title="Move",
        description="",
        starts_at=timezone.now() + dt.timedelta(days=2),
        duration_minutes=120,
        address="1 Road",
        lat=HOME[0],
        lng=HOME[1],
        budget_fen=20000,
    )
    application = taskhall.apply_to_need(actor=sun.user, need_id=need.pk, price_fen=19000)
    client = Client()
    client.force_login(stranger)
    assert client.get(f"/my/needs/{need.pk}/").status_code == 404
    got = client.post(f"/my/needs/{need.pk}/pick/", {"application": application.pk})
    assert got.status_code == 404
    assert client.post(f"/my/needs/{need.pk}/cancel/").status_code == 404
    assert not Booking.objects.exists()
    need.refresh_from_db()
    assert need.status == "open"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_new_notice_shows_on_the_open_page_at_once(movers, chromium):
    """A mover applies (through the provider API, on the server): the customer's open page
    shows the unread notice within seconds, pushed over the socket, not after the 30 s poll."""
    import httpx

    from tests.livesrv import LiveServer, current_database_url
    from yuyue.accounts.tokens import issue_token

    moving, (sun, _qian) = movers
    customer = make_user("Notice watcher", password="s3cret-pass")
    need = taskhall.publish_need(
        actor=customer,
        category_id=moving.pk,
        title="Piano",
        description="",
        starts_at=timezone.now() + dt.timedelta(days=2),
        duration_minutes=120,
        address="1 Road",
        lat=HOME[0],
        lng=HOME[1],
        budget_fen=50000,
    )
    key = issue_token(user=sun.user, via="password")[0]
    server = LiveServer(current_database_url(), asgi=True).start()
    try:
        page = chromium.new_context(viewport=PHONE, locale="en-US").new_page()
        with_password(page, server.url, customer, "/my/bookings/", "Sign in")
        page.wait_for_function("document.body.dataset.notices === 'live'")
        assert page.locator("#notices-link .badge").count() == 0
        applied = httpx.post(
            f"{server.url}/api/provider/needs/{need.pk}/apply",
            json={"price_fen": 45000, "message": "two of us"},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert applied.status_code == 201, applied.text
        page.wait_for_selector("#notices-link .badge", timeout=8_000)  # well before 30 s
        assert page.inner_text("#notices-link .badge") == "1"
    finally:
        server.stop()
