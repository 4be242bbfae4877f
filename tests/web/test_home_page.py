"""The first page a visitor sees, in a real browser (Debian's chromium through Playwright), on a
phone-sized screen."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.conftest import make_user
from tests.web.conftest import PHONE, axe_violations, shoot
from yuyue.accounts.models import Provider
from yuyue.catalog.models import Hall, Merchant, MerchantStatus, Service
from yuyue.scheduling.models import TimeSlot


@pytest.fixture
def shops(db):
    """What a customer should see, and what they must not (inactive, pending, closed)."""
    clean = Merchant.objects.create(
        name="洁家到家 CleanHome",
        slug="cleanhome",
        status=MerchantStatus.ACTIVE,
        address="南京西路1266号",
    )
    cleaning = Service.objects.create(
        merchant=clean,
        name="日常保洁 Home cleaning",
        kind="on_site",
        duration_minutes=120,
        base_price_fen=12050,
    )
    Service.objects.create(
        merchant=clean,
        name="全屋深度保洁 Whole-flat deep cleaning",
        kind="on_site",
        duration_minutes=90,
        base_price_fen=123456,
    )
    Service.objects.create(merchant=clean, name="Retired service", kind="on_site", active=False)
    for i in range(2):
        p = Provider.objects.create(
            user=make_user(f"Cleaner {i}"), merchant=clean, display_name=f"C{i}", verified=True
        )
        p.services.add(cleaning)
    unverified = Provider.objects.create(
        user=make_user("Not yet"), merchant=clean, display_name="N", verified=False
    )
    unverified.services.add(cleaning)

    hall_m = Merchant.objects.create(
        name="市民服务中心 Citizen Service Hall", slug="citizen-hall", status=MerchantStatus.ACTIVE
    )
    hall_a = Hall.objects.create(merchant=hall_m, name="A 厅 Hall A")
    Hall.objects.create(merchant=hall_m, name="B 厅 Hall B")
    passport = Service.objects.create(
        merchant=hall_m,
        name="出入境证件 Passport",
        kind="hall_slot",
        duration_minutes=60,
        deadline_rule="before_start",
        deadline_minutes=120,  # bookings close two hours before a slot
    )
    # Tomorrow 09:00 in Shanghai is 01:00 UTC.
    tomorrow = (timezone.now() + dt.timedelta(hours=8)).date() + dt.timedelta(days=1)
    start = dt.datetime.combine(tomorrow, dt.time(1), tzinfo=dt.UTC)
    for h in range(3):
        TimeSlot.objects.create(
            service=passport,
            hall=hall_a,
            starts_at=start + dt.timedelta(hours=h),
            ends_at=start + dt.timedelta(hours=h + 1),
            capacity=10,
        )
    soon = timezone.now().replace(microsecond=0) + dt.timedelta(minutes=90)
    TimeSlot.objects.create(  # its bookings closed half an hour ago: not offered as "next"
        service=passport, hall=hall_a, starts_at=soon, ends_at=soon + dt.timedelta(hours=1)
    )
    TimeSlot.objects.create(  # full: not offered either
        service=passport,
        hall=hall_a,
        starts_at=start - dt.timedelta(hours=3),
        ends_at=start - dt.timedelta(hours=2),
        capacity=2,
        booked=2,
    )
    TimeSlot.objects.create(  # in the past: not counted
        service=passport,
        hall=hall_a,
        starts_at=start - dt.timedelta(days=3),
        ends_at=start - dt.timedelta(days=3, hours=-1),
    )

    voice = Merchant.objects.create(name="心语 Voice", slug="voice", status=MerchantStatus.ACTIVE)
    Service.objects.create(
        merchant=voice, name="语音咨询 Voice call", kind="remote", base_price_fen=300
    )

    hidden = Merchant.objects.create(name="Pending Salon", slug="pending")
    Service.objects.create(merchant=hidden, name="Haircut", kind="hall_slot")
    return tomorrow


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_customer_sees_merchants_services_and_prices(live_server, shops, chromium):
    tomorrow = shops
    page = chromium.new_page(viewport=PHONE, locale="en-US")
    page.goto(live_server.url + "/")

    clean = page.locator("[data-merchant=cleanhome]")
    assert clean.locator("h2").inner_text() == "洁家到家 CleanHome"
    assert clean.locator("h2 a").get_attribute("href") == "/merchants/cleanhome/"
    services = clean.locator("li.service")
    assert services.count() == 2  # the inactive one is not offered
    cleaning = services.filter(has_text="日常保洁 Home cleaning")
    assert cleaning.locator(".price").inner_text() == "¥120.50"
    assert cleaning.locator(".duration").inner_text() == "2 h"
    assert "At your home" in cleaning.inner_text()
    assert "2 providers" in cleaning.inner_text()  # the unverified one is not counted
    deep = services.filter(has_text="深度保洁")
    assert deep.locator(".price").inner_text() == "¥1,234.56"
    assert deep.locator(".duration").inner_text() == "1 h 30 min"

    hall = page.locator("[data-merchant=citizen-hall]")
    assert "A 厅 Hall A · B 厅 Hall B" in hall.locator(".halls").inner_text()
    passport = hall.locator("li.service")
    assert passport.locator(".price").inner_text() == "Free"
    text = passport.inner_text()
    assert "3 open slots in A 厅 Hall A" in text
    # the merchant's local time, not UTC, written the page's way
    weekday = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")[tomorrow.weekday()]
    assert f"next {weekday} {tomorrow.day} {tomorrow:%b} 09:00" in text

    call = page.locator("[data-merchant=voice] li.service")
    assert call.locator(".price").inner_text() == "¥3.00/min"  # a rate, not a price
    assert "30 min" not in call.inner_text() and "minute you talk" in call.inner_text()

    shoot(page, "home-phone")
    assert axe_violations(page) == []
    assert page.locator("[data-merchant=pending]").count() == 0
    assert "Haircut" not in page.content()
    # Made for a phone: nothing wider than the screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    # Search by words: only what matches stays
    page.fill("#q", "passport")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/?q=passport")
    assert page.locator("[data-merchant]").count() == 1
    assert page.locator("[data-merchant=citizen-hall]").count() == 1

    # The same page in Chinese, chosen from the browser's language
    zh = chromium.new_page(viewport=PHONE, locale="zh-CN")
    zh.goto(live_server.url + "/")
    text = zh.locator("[data-merchant=citizen-hall] li.service").inner_text()
    assert "A 厅 Hall A 共 3 个可约时段" in text and "免费" in text
    assert f"{tomorrow.month}月{tomorrow.day}日" in text
    shoot(zh, "home-phone-zh")
    assert axe_violations(zh) == []


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_api_docs_link_opens_the_documentation(live_server, shops, chromium):
    page = chromium.new_page(viewport=PHONE, locale="en-US")
    page.goto(live_server.url + "/")
    page.get_by_role("link", name="API docs").click()
    page.wait_for_load_state("networkidle")
    assert page.url == live_server.url + "/api/docs"
    # Swagger UI has rendered the OpenAPI document: its title and some operations are on screen.
    page.locator(".swagger-ui .info .title").wait_for()
    assert "yuyue" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.locator(".opblock").count() > 10


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_merchant_page_shows_its_services_and_rated_providers(live_server, shops, chromium):
    page = chromium.new_page(viewport=PHONE, locale="zh-CN")
    page.goto(live_server.url + "/merchants/cleanhome/")
    services = page.inner_text("#services")
    assert "日常保洁 Home cleaning" in services and "¥120.50" in services
    assert "Retired service" not in services
    providers = page.locator("#providers li")
    assert providers.count() == 2  # the unverified one is not shown
    assert "★" in providers.first.inner_text()
    shoot(page, "merchant-phone-zh")
    assert axe_violations(page) == []
    assert page.goto(live_server.url + "/merchants/pending/").status == 404


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_merchants_nearest_first_by_location_or_a_chosen_area(live_server, shops, chromium):
    """Near the browser's location, or, when the browser will not tell, near the centre of a
    chosen district; remembered for the next visit until "anywhere"."""
    from yuyue.catalog.models import Area

    Merchant.objects.filter(slug="cleanhome").update(lat=31.2290, lng=121.4480)  # 静安
    hall = Merchant.objects.get(slug="citizen-hall")
    Hall.objects.filter(merchant=hall, name__startswith="A").update(lat=39.9219, lng=116.4436)
    Area.objects.create(city="北京", name="朝阳", lat=39.9219, lng=116.4436)
    Area.objects.create(city="上海", name="静安", lat=31.2290, lng=121.4480, position=1)

    near_shanghai = chromium.new_context(
        viewport=PHONE,
        locale="en-US",
        geolocation={"latitude": 31.2304, "longitude": 121.4737},
        permissions=["geolocation"],
    )
    page = near_shanghai.new_page()
    page.goto(live_server.url + "/")
    page.get_by_role("button", name="Use my location").click()
    page.wait_for_url("**/?lat=31.2304*")
    order = page.locator("[data-merchant]").evaluate_all("ms => ms.map(m => m.dataset.merchant)")
    assert order[:2] == ["cleanhome", "citizen-hall"] and "voice" in order  # placeless last
    assert page.locator("[data-merchant=cleanhome] .km").inner_text() == "2.4 km"  # 2.45
    assert "Near you" in page.inner_text("#where")
    near_shanghai.close()

    refused = chromium.new_context(viewport=PHONE, locale="zh-CN")  # no permission given
    page = refused.new_page()
    page.goto(live_server.url + "/")
    page.get_by_role("button", name="使用我的位置").click()
    page.wait_for_selector("[data-locate-error]:not([hidden])")
    page.select_option("#area", label="北京 · 朝阳")
    page.get_by_role("button", name="显示", exact=True).click()
    page.wait_for_url("**/?area=*")
    first = page.locator("[data-merchant]").first
    assert first.get_attribute("data-merchant") == "citizen-hall"
    assert first.locator(".km").inner_text() == "0.0 公里"
    assert "北京 朝阳附近" in page.inner_text("#where")
    shoot(page, "home-area-zh")
    assert axe_violations(page) == []
    page.goto(live_server.url + "/")  # remembered
    assert page.locator("[data-merchant]").first.get_attribute("data-merchant") == "citizen-hall"
    page.get_by_role("link", name="不限地点").click()
    page.wait_for_url("**/?where=anywhere")
    assert page.locator("#where .km, [data-merchant] .km").count() == 0
    refused.close()
