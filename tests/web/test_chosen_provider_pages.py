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
from yuyue.billing.payments import wallet
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
    page.fill("#notes", "门禁 501#，家里有猫")
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
    assert booking.options == {"notes": "门禁 501#，家里有猫"}  # what the provider's page shows
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


PACKAGE_WORDS = {
    "en": {
        "sign_in": "Sign in",
        "package": "Every week, as a package",
        "show": "Show the dates",
        "book": "Book the package",
        "skip": "Book the others",
        "taken": "already booked",
        "pay": "Pay ¥1,106.00 from my wallet",
        "paid": "Paid",
        "cancel": "Cancel the package…",
        "confirm": "Cancel the package",
        "cancelled": "Cancelled",
    },
    "zh-hans": {
        "sign_in": "登录",
        "package": "按周包月预约",
        "show": "查看日期",
        "book": "预约套餐",
        "skip": "预约其余日期",
        "taken": "已被预约",
        "pay": "用钱包支付 ¥1,106.00",
        "paid": "已支付",
        "cancel": "取消套餐…",
        "confirm": "取消套餐",
        "cancelled": "已取消",
    },
}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_monthly_package_booked_paid_and_cancelled_as_one(
    language, live_server, carers, chromium
):
    """Wang every Tuesday and Friday at 09:00 for four weeks at one address: the dates shown
    first (one already taken, so it is left out on purpose), one price, one payment, then the
    package cancelled with what comes back said first."""
    from yuyue.orders.models import Series
    from yuyue.orders.placing import book_provider

    care, people = carers
    wang = people["Wang"]
    t = PACKAGE_WORDS[language]
    today = timezone.now().astimezone(SH).date()
    first = today + dt.timedelta(days=(1 - today.weekday()) % 7 or 7)  # next Tuesday
    other = make_user(f"Neighbour {language}")
    taken = dt.datetime.combine(first + dt.timedelta(days=10), dt.time(9), SH)  # 2nd Friday
    book_provider(
        actor=other, service_id=care.pk, provider_id=wang.pk, starts_at=taken, address="隔壁"
    )
    customer = make_user(f"Package {language}", password="s3cret-pass")
    top_up(customer, 200_000)
    context = chromium.new_context(
        viewport=PHONE, locale="zh-CN" if language == "zh-hans" else "en-US"
    )
    page = context.new_page()
    with_password(page, live_server.url, customer, f"/providers/{wang.pk}/", t["sign_in"])
    page.get_by_role("link", name=t["package"]).click()
    page.wait_for_url(re.compile(rf"/providers/{wang.pk}/package/\?service={care.pk}"))
    page.locator("input[name=weekday][value='1']").check()
    page.locator("input[name=weekday][value='4']").check()
    page.select_option("#start", "09:00")
    page.select_option("#weeks", "4")
    page.fill("#date_from", f"{first:%Y-%m-%d}")
    page.fill("#address", "静安区常德路 800 号")
    page.get_by_role("button", name=t["show"], exact=True).click()
    page.wait_for_selector("#dates")
    listed = page.inner_text("#dates")
    assert t["taken"] in listed  # the second Friday is somebody else's already
    assert page.inner_text("#total") == "¥1,106.00"  # 7 free dates × ¥158
    shoot(page, f"customer-{language}-package-dates")
    assert axe_violations(page) == []
    page.get_by_role("button", name=t["book"], exact=True).click()  # not without saying so
    page.wait_for_selector("#form-error")
    assert not Series.objects.filter(customer=customer).exists()
    page.get_by_label(re.compile(t["skip"])).check()
    page.get_by_role("button", name=t["book"], exact=True).click()
    page.wait_for_url(re.compile(r"/my/packages/\d+/$"))
    made = Series.objects.get(customer=customer)
    assert made.price_fen == 7 * 15800 and made.address == "静安区常德路 800 号"
    assert page.locator("#package-dates li").count() == 7
    shoot(page, f"customer-{language}-package")
    assert axe_violations(page) == []
    page.get_by_role("button", name=t["pay"]).click()
    page.wait_for_url(re.compile(r"\?paid=1"))
    assert page.inner_text("#state") == t["paid"]
    assert wallet(customer.pk).available == 200_000 - 7 * 15800
    # one date of it: it says it belongs to the package
    page.locator("#package-dates a").first.click()
    page.wait_for_url(re.compile(r"/my/bookings/\d+/"))
    page.locator("#in-package").click()
    page.wait_for_url(re.compile(rf"/my/packages/{made.pk}/"))
    page.get_by_role("link", name=t["cancel"]).click()
    confirm = page.inner_text("#cancel-confirm")
    # each date comes back by the rules: whole, unless it starts within 24 h (30% kept)
    soon = timezone.now() + dt.timedelta(hours=24)
    back = sum(
        15800 if b.starts_at > soon else 15800 - 15800 * 30 // 100
        for b in Booking.objects.filter(series=made)
    )
    assert f"¥{back / 100:,.2f}" in confirm and "¥1,106.00" in confirm
    shoot(page, f"customer-{language}-package-cancel")
    page.get_by_role("button", name=t["confirm"], exact=True).click()
    page.wait_for_url(re.compile(rf"/my/packages/{made.pk}/$"))
    assert page.inner_text("#state") == t["cancelled"]
    assert set(Booking.objects.filter(series=made).values_list("status", flat=True)) == {
        "cancelled"
    }
    context.close()


def test_nobody_reaches_another_customers_package(carers):
    from yuyue.orders.models import Series
    from yuyue.orders.series import book_series

    care, people = carers
    owner, stranger = make_user("Package owner"), make_user("Package stranger")
    top_up(owner, 100_000)
    start = timezone.now().astimezone(SH).date() + dt.timedelta(days=2)
    made, _dates = book_series(
        actor=owner,
        service_id=care.pk,
        provider_id=people["Li"].pk,
        rule={
            "weekdays": [start.weekday()],
            "start": "10:00",
            "date_from": start.isoformat(),
            "date_to": (start + dt.timedelta(days=13)).isoformat(),
        },
        address="1 Owner Road",
    )
    client = Client()
    client.force_login(stranger)
    assert client.get(f"/my/packages/{made.pk}/").status_code == 404
    assert client.post(f"/my/packages/{made.pk}/pay/").status_code == 404
    assert client.post(f"/my/packages/{made.pk}/cancel/").status_code == 404
    made.refresh_from_db()
    assert made.active and Series.objects.get(pk=made.pk).customer_id == owner.pk
    assert not Booking.objects.filter(series=made, payment_status="paid").exists()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_package_paid_by_card_as_one_trade(live_server, carers, chromium, settings):
    """The package page offers the gateways too: one trade for every date, the sandbox's
    checkout, and the page waits for the gateway's word (the job's HTTP notification)."""
    from tests.web.test_customer_pages import run_worker
    from yuyue.billing.models import Payment
    from yuyue.orders.series import book_series

    settings.YUYUE_PUBLIC_BASE_URL = live_server.url  # where the sandbox notifies
    care, people = carers
    today = timezone.now().astimezone(SH).date()
    first = today + dt.timedelta(days=(1 - today.weekday()) % 7 or 7)  # next Tuesday
    customer = make_user("Package by card", password="s3cret-pass")
    made, dates = book_series(
        actor=customer,
        service_id=care.pk,
        provider_id=people["Wang"].pk,
        rule={
            "weekdays": [1, 4],
            "start": "09:00",
            "date_from": first.isoformat(),
            "date_to": (first + dt.timedelta(days=13)).isoformat(),
        },
        address="静安区常德路 800 号",
    )
    assert len(dates) == 4
    page = chromium.new_context(viewport=PHONE, locale="en-US").new_page()
    with_password(page, live_server.url, customer, f"/my/packages/{made.pk}/", "Sign in")
    page.get_by_role("button", name="Pay ¥632.00 by Card (sandbox)").click()
    page.wait_for_url(re.compile(r"/my/payments/\w+/sandbox/"))
    page.get_by_role("button", name="Pay ¥632.00", exact=True).click()
    page.wait_for_url(re.compile(rf"/my/packages/{made.pk}/\?paying=1"))
    assert "Waiting for the payment" in page.inner_text("#payment-state")
    run_worker()  # the sandbox's notification, over HTTP to the live server
    page.wait_for_function(
        "document.getElementById('payment-state').textContent.includes('Every date')"
    )
    # the whole page again once paid: its state and its buttons, not the notice alone
    page.wait_for_function("document.getElementById('state').textContent === 'Paid'")
    assert page.locator("#pay").count() == 0
    shoot(page, "customer-en-package-paid-by-card")
    assert axe_violations(page) == []
    trade = Payment.objects.get(series=made)
    assert (trade.gateway, trade.status, trade.amount_fen) == ("sandbox", "paid", 4 * 15800)
    assert trade.shares.count() == 4
    assert set(Booking.objects.filter(series=made).values_list("payment_status", flat=True)) == {
        "paid"
    }
    assert wallet(customer.pk).available == 0  # the card paid, not the wallet
    page.context.close()
