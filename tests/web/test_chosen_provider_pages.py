"""Choosing a provider in Chromium at phone size: filter and sort the providers who do a service
(gender, age, experience, price, rating; nearest with the browser's location), open one's page,
pick a free time, give the address, pay, and see them on the booking."""

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
from tests.web.test_customer_pages import with_password
from yuyue.accounts.models import Credential, Provider
from yuyue.catalog.models import Merchant, MerchantStatus, Service
from yuyue.orders.models import Booking
from yuyue.scheduling.models import WorkingHours

SH = ZoneInfo("Asia/Shanghai")
HOME = (31.2304, 121.4737)

WORDS = {
    "en": {
        "sign_in": "Sign in",
        "nearest": "Nearest",
        "woman": "Woman",
        "book": "Book",
        "pay": "Pay ¥158.00 from my wallet",
        "found": "2 providers",
        "km": "1.0 km away",
    },
    "zh-hans": {
        "sign_in": "登录",
        "nearest": "距离最近",
        "woman": "女",
        "book": "预约",
        "pay": "用钱包支付 ¥158.00",
        "found": "2 位服务人员",
        "km": "距您 1.0 公里",
    },
}


@pytest.fixture
def carers(db):
    """A home-care merchant: three carers of one service, different in gender, age,
    experience, price, rating and distance from HOME."""
    merchant = Merchant.objects.create(
        name="安心家政 Anxin Care", slug="anxin", status=MerchantStatus.ACTIVE
    )
    care = Service.objects.create(
        merchant=merchant,
        name="Elder care visit 陪护",
        kind="on_site",
        duration_minutes=120,
        step_minutes=60,
        buffer_minutes=30,
        base_price_fen=12000,
        refund_rules={"free_hours": 24, "fee_percent": 30},
    )
    year = timezone.now().year
    people = {}
    for name, gender, born, years, price, rating, north_km in (
        ("Wang 王阿姨", "female", year - 52, 12, 15800, "4.9", 1.0),
        ("Li 李师傅", "male", year - 38, 6, None, "4.6", 3.0),
        ("Zhao 赵姐", "female", year - 29, 2, 9900, "4.2", 6.0),
    ):
        p = Provider.objects.create(
            user=make_user(f"Carer {name}"),
            merchant=merchant,
            display_name=name,
            gender=gender,
            birth_year=born,
            experience_years=years,
            price_fen=price,
            rating=rating,
            reviews_count=10,
            verified=True,
            lat=HOME[0] + north_km / 111.2,
            lng=HOME[1],
            service_radius_km=8,
            bio="Patient and careful." if price == 15800 else "",
        )
        p.services.add(care)
        for d in range(7):
            WorkingHours.objects.create(provider=p, weekday=d, start=dt.time(8), end=dt.time(18))
        people[name.split()[0]] = p
    Credential.objects.create(
        provider=people["Wang"], kind="养老护理员证", number="110105197001011234", verified=True
    )
    return care, people


def names(page) -> list[str]:
    return [n.strip() for n in page.locator("#provider-list strong").all_inner_texts()]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_filter_choose_book_and_pay_a_carer(language, live_server, carers, chromium):
    care, people = carers
    t = WORDS[language]
    customer = make_user(f"Daughter {language}", password="s3cret-pass")
    top_up(customer, 30_000)
    tomorrow = timezone.now().astimezone(SH).date() + dt.timedelta(days=1)
    context = chromium.new_context(
        viewport=PHONE,
        locale="zh-CN" if language == "zh-hans" else "en-US",
        geolocation={"latitude": HOME[0], "longitude": HOME[1]},
        permissions=["geolocation"],
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/services/{care.pk}/")
    page.locator("#choose-provider").click()
    page.wait_for_url(re.compile(rf"/services/{care.pk}/providers/"))
    assert names(page) == ["Wang 王阿姨", "Li 李师傅", "Zhao 赵姐"]  # best rated first
    shoot(page, f"customer-{language}-providers")
    assert axe_violations(page) == []

    # nearest first, with the browser's location; each card says how far
    page.locator("[data-locate]").click()
    page.wait_for_url(re.compile(r"lat=31\.2304"))
    page.select_option("#f-sort", "distance")
    page.wait_for_function(
        "document.querySelector('#provider-list strong').textContent.includes('Wang')"
    )
    page.wait_for_url(re.compile(r"sort=distance"))  # the filters stay in the address
    assert names(page) == ["Wang 王阿姨", "Li 李师傅", "Zhao 赵姐"]
    assert t["km"] in page.inner_text("#provider-list li:first-child")
    # women only, then at most ¥120: Wang (¥158) drops out
    page.select_option("#f-gender", "female")
    page.wait_for_function("document.querySelectorAll('#provider-list strong').length === 2")
    assert page.inner_text("#found") == t["found"]
    page.fill("#f-price", "120")
    page.locator("#f-price").dispatch_event("change")
    page.wait_for_function("document.querySelectorAll('#provider-list strong').length === 1")
    assert names(page) == ["Zhao 赵姐"]
    shoot(page, f"customer-{language}-providers-filtered")
    # back to everyone, and to Wang's page
    page.fill("#f-price", "")
    page.locator("#f-price").dispatch_event("change")
    page.wait_for_function("document.querySelectorAll('#provider-list strong').length === 2")
    page.locator("#provider-list a", has_text="Wang").click()
    page.wait_for_url(re.compile(rf"/providers/{people['Wang'].pk}/"))
    profile = page.inner_text("#profile")
    assert "养老护理员证" in profile and "110105197001011234" not in profile
    assert "Patient and careful." in profile

    here = page.url.split(live_server.url)[1]
    assert "lat=" in here  # the point goes along from the list
    with_password(page, live_server.url, customer, here, t["sign_in"])
    page.locator(f"nav.days a[href*='day={tomorrow:%Y-%m-%d}']").click()
    page.wait_for_url(re.compile(f"day={tomorrow:%Y-%m-%d}"))
    times = page.inner_text("#times")
    assert "08:00" in times and "16:00" in times and "17:00" not in times  # 2 h must fit
    assert "¥158.00" in times  # Wang's own price
    page.locator("#times label", has_text="14:00").click()
    page.fill("#address", "延安西路 200 弄 3 号 501")
    shoot(page, f"customer-{language}-provider")
    assert axe_violations(page) == []
    page.get_by_role("button", name=t["book"], exact=True).click()
    page.wait_for_url(re.compile(r"/my/bookings/\d+/pay/"))
    page.get_by_role("button", name=t["pay"]).click()
    page.wait_for_url(re.compile(r"/my/bookings/\d+/\?paid=1"))
    booking = Booking.objects.get(customer=customer)
    assert (booking.channel, booking.provider_id, booking.price_fen) == (
        "chosen",
        people["Wang"].pk,
        15800,
    )
    assert booking.address == "延安西路 200 弄 3 号 501"
    assert (round(booking.lat, 4), round(booking.lng, 4)) == HOME
    assert booking.starts_at == dt.datetime.combine(tomorrow, dt.time(14), SH)
    assert page.inner_text("#provider") == "Wang 王阿姨"
    shoot(page, f"customer-{language}-provider-booked")
    context.close()


def test_the_provider_page_keeps_the_address_and_says_what_is_missing(carers):
    care, people = carers
    customer = make_user("Son", password="s3cret-pass")
    client = Client()
    client.force_login(customer)
    url = f"/providers/{people['Li'].pk}/?service={care.pk}"
    tomorrow = timezone.now().astimezone(SH).date() + dt.timedelta(days=1)
    start = dt.datetime.combine(tomorrow, dt.time(10), SH).isoformat()
    got = client.post(url, {"service": care.pk, "start": start, "address": " "})
    assert got.status_code == 422 and b'aria-invalid="true"' in got.content
    got = client.post(url, {"service": care.pk, "address": "5 Ruijin Road", "day": tomorrow})
    assert got.status_code == 422 and b"5 Ruijin Road" in got.content  # nothing typed lost
    assert not Booking.objects.exists()
    # far away: Li does not come there, and says so
    far = f"{url}&lat=31.30&lng=120.58"
    got = client.post(far, {"service": care.pk, "start": start, "address": "苏州"})
    assert got.status_code == 409 and not Booking.objects.exists()
    # a provider who is not verified has no page; nor does a service they do not do
    Provider.objects.filter(pk=people["Zhao"].pk).update(verified=False)
    assert client.get(f"/providers/{people['Zhao'].pk}/").status_code == 404
    assert client.get(f"/services/{care.pk}/providers/?sort=price&price_max=abc").status_code == 200
