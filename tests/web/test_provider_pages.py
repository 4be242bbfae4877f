"""The provider's pages in Chromium at phone size, against the ASGI server (websockets): a
cleaner goes on duty, an offer is pushed to the open page without a reload (countdown, sound),
is accepted; the cleaner departs (the page shares the phone's location, which reaches the
customer's tracking), arrives, starts and finishes with the customer's code; the earnings show
once settled, and a withdrawal is asked for. An offer left to run out greys out and the order
goes to the next cleaner; a cleaner off duty gets no offers; nobody reaches another provider's
offers or orders."""

from __future__ import annotations

import datetime as dt
import re
import time
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone
from PIL import Image

from tests.calls.conftest import top_up
from tests.conftest import make_user
from tests.livesrv import LiveServer, current_database_url
from tests.web.conftest import PHONE, axe_violations, loaded_width, same_day_start, shoot
from tests.web.test_customer_pages import off_the_loop, with_password
from yuyue.accounts.models import Provider
from yuyue.billing.models import Withdrawal
from yuyue.billing.payments import pay_with_wallet
from yuyue.billing.settlement import earnings
from yuyue.catalog.geocoding import wgs_to_gcj
from yuyue.catalog.models import Merchant, MerchantStatus, Service
from yuyue.dispatch import services as dispatch
from yuyue.dispatch.models import LocationPing, Offer
from yuyue.dispatch.ordering import place_onsite_order
from yuyue.orders.models import Booking, WorkPhoto
from yuyue.scheduling.models import WorkingHours

SH = ZoneInfo("Asia/Shanghai")
HOME = (31.2304, 121.4737)
EARLY = '{"depart": 4320, "arrive": 4320, "start": 4320, "complete": 4320}'


@pytest.fixture
def crew(db):
    merchant = Merchant.objects.create(
        name="洁家 CleanHome",
        slug="cleanhome",
        status=MerchantStatus.ACTIVE,
        commission_bp=1000,
        provider_share_bp=8000,
    )
    cleaning = Service.objects.create(
        merchant=merchant,
        name="Home cleaning 日常保洁",
        kind="on_site",
        duration_minutes=120,
        step_minutes=60,
        base_price_fen=10000,
    )
    people = []
    for name, km in (("Zhou 周", 1.0), ("Wu 吴", 2.0)):
        p = Provider.objects.create(
            user=make_user(f"Cleaner {name}", password="s3cret-pass"),
            merchant=merchant,
            display_name=name,
            verified=True,
            lat=HOME[0] + km / 111.2,
            lng=HOME[1],
            service_radius_km=10,
        )
        p.services.add(cleaning)
        for d in range(7):
            WorkingHours.objects.create(
                provider=p, weekday=d, start=dt.time(0), end=dt.time(23, 59)
            )
        people.append(p)
    customer = make_user("Home owner", password="s3cret-pass")
    top_up(customer, 50_000)
    return cleaning, people, customer


def order_for(customer, service, hours_ahead=3) -> Booking:
    start = same_day_start(hours_ahead)
    booking = place_onsite_order(
        actor=customer,
        service_id=service.pk,
        starts_at=start,
        address="南京西路 1266 号 1201",
        lat=HOME[0],
        lng=HOME[1],
        options={"notes": "门铃坏了"},
    )
    return pay_with_wallet(actor=customer, booking_id=booking.pk)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_day_of_work_from_offer_to_withdrawal(language, crew, chromium, settings, tmp_path):
    settings.YUYUE_SETTLE_AFTER_HOURS = 0
    settings.YUYUE_EARNINGS_FREEZE_HOURS = 0
    settings.YUYUE_MIN_WITHDRAWAL_FEN = 100
    cleaning, (zhou, wu), customer = crew
    zh = language == "zh-hans"
    t = {
        "sign_in": "登录" if zh else "Sign in",
        "off": "休息中" if zh else "Resting",
        "on": "接单中" if zh else "On duty",
        "accept": "接单" if zh else "Accept",
        "depart": "我已出发" if zh else "I am on my way",
        "arrive": "我已到达" if zh else "I have arrived",
        "start": "开始服务" if zh else "Start the work",
        "finish": "完成服务" if zh else "Finish the work",
        "withdraw": "申请提现" if zh else "Ask for a withdrawal",
        "review": "审核中" if zh else "Under review",
    }
    server = LiveServer(
        current_database_url(),
        asgi=True,
        env={
            "YUYUE_STEP_EARLY_MINUTES": EARLY,
            "YUYUE_LOCATION_MIN_SECONDS": "1",
            # jobs run in the server, as `make run` runs them without Redis: its pushes reach
            # the page's socket (CI's Redis would carry them from any process)
            "YUYUE_EMBEDDED_WORKER": "1",
            "YUYUE_SETTLE_AFTER_HOURS": "0",
            "YUYUE_EARNINGS_FREEZE_HOURS": "0",
        },
    ).start()
    try:
        context = chromium.new_context(
            viewport=PHONE,
            locale="zh-CN" if zh else "en-US",
            geolocation={"latitude": HOME[0] + 0.02, "longitude": HOME[1]},
            permissions=["geolocation"],
        )
        page = context.new_page()
        with_password(page, server.url, zhou.user, "/pro/", t["sign_in"])
        # Wu rests: no offers for Wu; Zhou is on duty (the default) and has the page open
        Provider.objects.filter(pk=wu.pk).update(duty="resting")
        page.wait_for_function("document.getElementById('live-state').dataset.connected === '1'")
        booking = off_the_loop(order_for, customer=customer, service=cleaning)
        (offer,) = off_the_loop(dispatch.run_dispatch_round)
        assert offer.provider_id == zhou.pk
        # the round's push job runs in the server's worker: to Zhou's open page, no reload
        page.wait_for_selector(f"#offer-{offer.pk}")
        card = page.inner_text(f"#offer-{offer.pk}")
        assert "Home cleaning" in card and "¥100.00" in card
        page.wait_for_function(
            f"/\\d+ s/.test(document.querySelector('#offer-{offer.pk} .left').textContent)"
        )
        shoot(page, f"provider-{language}-offer")
        assert axe_violations(page) == []
        page.get_by_role("button", name=t["accept"], exact=True).click()
        page.wait_for_url(re.compile(rf"/pro/orders/{booking.pk}/$"))
        assert "门铃坏了" in page.inner_text("#notes")
        link = page.get_attribute("#map-link", "href")
        assert "uri.amap.com" in link
        # AMap reads GCJ-02: the address's point shifted as Chinese maps shift it (≈ 0.5 km)
        lat, lng = wgs_to_gcj(booking.lat, booking.lng)
        assert f"position={lng:.6f},{lat:.6f}" in link
        shoot(page, f"provider-{language}-order")
        assert axe_violations(page) == []

        page.get_by_role("button", name=t["depart"]).click()
        page.wait_for_selector("#sharing")
        assert Booking.objects.get(pk=booking.pk).status == "departed"
        # the page shares the phone's location while on the way: it reaches the tracking
        context.set_geolocation({"latitude": HOME[0] + 0.01, "longitude": HOME[1]})
        page.wait_for_function("Number(document.getElementById('shared').dataset.count) >= 1")
        assert LocationPing.objects.filter(booking=booking, provider=zhou).exists()
        page.get_by_role("button", name=t["arrive"]).click()
        page.wait_for_selector("#start-code")
        page.fill("#start-code", booking.code)
        page.get_by_role("button", name=t["start"]).click()
        page.wait_for_selector("#done-code")
        result = tmp_path / "clean-kitchen.png"
        Image.new("RGB", (1200, 900), (240, 240, 235)).save(result)
        page.set_input_files("#photos", str(result))
        page.fill("#done-code", booking.code)
        page.get_by_role("button", name=t["finish"]).click()
        page.wait_for_function("!document.getElementById('done-code')")
        assert Booking.objects.get(pk=booking.pk).status == "completed"
        (photo,) = WorkPhoto.objects.filter(booking=booking)
        assert loaded_width(page, ".photos img") == 1200
        owner, stranger = Client(), Client()
        owner.force_login(customer)
        stranger.force_login(wu.user)
        assert owner.get(f"/work-photos/{photo.pk}.jpg").status_code == 200
        assert stranger.get(f"/work-photos/{photo.pk}.jpg").status_code == 404
        assert b"work-photos" in owner.get(f"/my/bookings/{booking.pk}/").content

        # settlement, then the earnings freed (both due at once here), by the server's worker
        deadline = time.monotonic() + 30
        while earnings(zhou)["available_fen"] == 0 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert earnings(zhou)["available_fen"] == 10000 * 90 // 100 * 80 // 100  # 72.00
        page.goto(f"{server.url}/pro/money/")
        assert page.inner_text("#available") == "¥72.00"
        page.fill("#amount", "50")
        page.get_by_role("button", name=t["withdraw"]).click()
        page.wait_for_selector("#flash")
        assert t["review"] in page.inner_text("#withdrawals")
        assert Withdrawal.objects.get(provider=zhou).amount_fen == 5000
        shoot(page, f"provider-{language}-money")
        assert axe_violations(page) == []
        context.close()
    finally:
        server.stop()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_an_offer_left_to_run_out_greys_out_and_goes_to_the_next(crew, chromium, settings):
    settings.YUYUE_OFFER_TIMEOUT_SECONDS = 3
    cleaning, (zhou, wu), customer = crew
    server = LiveServer(
        current_database_url(), asgi=True, env={"YUYUE_EMBEDDED_WORKER": "1"}
    ).start()
    try:
        page = chromium.new_context(viewport=PHONE, locale="en-US").new_page()
        with_password(page, server.url, zhou.user, "/pro/", "Sign in")
        page.wait_for_function("document.getElementById('live-state').dataset.connected === '1'")
        booking = off_the_loop(order_for, customer=customer, service=cleaning)
        (first,) = off_the_loop(dispatch.run_dispatch_round)
        assert first.provider_id == zhou.pk  # the nearer one
        page.wait_for_selector(f"#offer-{first.pk}")
        page.wait_for_selector(f"#offer-{first.pk}.expired", timeout=10_000)
        assert page.locator(f"#offer-{first.pk} button").first.is_disabled()
        shoot(page, "provider-en-offer-expired")
        (second,) = off_the_loop(dispatch.run_dispatch_round)
        assert second.provider_id == wu.pk and second.booking_id == booking.pk
        assert Offer.objects.get(pk=first.pk).status == "expired"
        # Zhou off duty: no offer in the next round for a new order
        page.get_by_role("button", name="Off duty").click()
        page.wait_for_selector("#duty-note")
        assert Provider.objects.get(pk=zhou.pk).duty == "off_duty"
        Provider.objects.filter(pk=wu.pk).update(duty="off_duty")
        off_the_loop(order_for, customer=customer, service=cleaning, hours_ahead=6)
        assert off_the_loop(dispatch.run_dispatch_round) == []
    finally:
        server.stop()


def test_nobody_reaches_another_providers_offers_or_orders(crew):
    cleaning, (zhou, wu), customer = crew
    booking = order_for(customer, cleaning)
    (offer,) = dispatch.run_dispatch_round()
    mine, other = Client(), Client()
    mine.force_login(zhou.user)
    other.force_login(wu.user)
    assert mine.get(f"/pro/offers/{offer.pk}/").status_code == 200
    assert other.get(f"/pro/offers/{offer.pk}/").status_code == 404
    assert other.post(f"/pro/offers/{offer.pk}/accept/").status_code == 404
    assert other.post(f"/pro/offers/{offer.pk}/reject/", {"reason": "busy"}).status_code == 404
    assert Offer.objects.get(pk=offer.pk).status == "pending"
    assert mine.post(f"/pro/offers/{offer.pk}/accept/").status_code == 302
    for path in (f"/pro/orders/{booking.pk}/", f"/pro/orders/{booking.pk}/location/"):
        got = other.get(path) if path.endswith(f"{booking.pk}/") else other.post(path)
        assert got.status_code == 404, path
    step = other.post(f"/pro/orders/{booking.pk}/depart/", {"lat": HOME[0], "lng": HOME[1]})
    assert step.status_code == 404
    assert Booking.objects.get(pk=booking.pk).status == "accepted"
    shopper = Client()
    shopper.force_login(customer)
    assert shopper.get("/pro/").status_code == 403  # not a provider
    assert Client().get("/pro/").status_code == 302  # not signed in: to the sign-in page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_hours_leave_grab_and_the_task_hall(live_server, crew, chromium):
    """Zhou sets the week (weekdays only) and a day of leave, grabs an open order, and applies
    to a customer's request in the task hall with a price and a word."""
    from yuyue.catalog.models import Category
    from yuyue.dispatch.models import Application
    from yuyue.dispatch.taskhall import publish_need
    from yuyue.scheduling.models import AvailabilityException, WorkingHours

    cleaning, (zhou, wu), customer = crew
    Provider.objects.filter(pk=wu.pk).update(duty="off_duty")
    housework = Category.objects.create(name="家政 Housework", slug="housework")
    Service.objects.filter(pk=cleaning.pk).update(category=housework)
    booking = off_the_loop(order_for, customer=customer, service=cleaning)
    need = publish_need(
        actor=customer,
        category_id=housework.pk,
        title="擦窗 Windows",
        description="12 扇窗",
        starts_at=timezone.now() + dt.timedelta(days=2),
        duration_minutes=120,
        address="延安西路 2 号",
        lat=HOME[0],
        lng=HOME[1],
        budget_fen=20000,
    )
    page = chromium.new_context(viewport=PHONE, locale="en-US").new_page()
    with_password(page, live_server.url, zhou.user, "/pro/hours/", "Sign in")
    for d in (5, 6):  # not at weekends
        page.uncheck(f"input[name=works-{d}]")
    page.fill("#start-0", "08:30")
    page.get_by_role("button", name="Save my week").click()
    page.wait_for_selector("#flash")
    week = {h.weekday: h for h in WorkingHours.objects.filter(provider=zhou)}
    assert sorted(week) == [0, 1, 2, 3, 4] and week[0].start == dt.time(8, 30)
    leave_day = timezone.now().astimezone(SH).date() + dt.timedelta(days=5)
    while leave_day.weekday() >= 5:  # a working day, so the calendar shows the leave
        leave_day += dt.timedelta(days=1)
    page.fill("#ex-date", f"{leave_day:%Y-%m-%d}")
    page.get_by_role("button", name="Add", exact=True).click()
    page.wait_for_selector("#flash")
    assert AvailabilityException.objects.get(provider=zhou).date == leave_day
    assert "Leave" in page.inner_text("#exceptions")
    shoot(page, "provider-en-hours")
    assert axe_violations(page) == []

    page.goto(f"{live_server.url}/pro/grab/")
    assert page.locator(f"[data-order='{booking.pk}']").count() == 1
    shoot(page, "provider-en-grab")
    assert axe_violations(page) == []
    page.locator(f"[data-order='{booking.pk}'] button").click()
    page.wait_for_url(re.compile(rf"/pro/orders/{booking.pk}/$"))
    assert Booking.objects.get(pk=booking.pk).provider_id == zhou.pk

    # the calendar: the week as set (weekends off), the hours of leave taken off, the order
    page.get_by_role("link", name="My work").click()
    cell = page.locator(f"#calendar td[data-date='{leave_day:%Y-%m-%d}']")
    assert cell.locator("small").inner_text() == ("6.5 h" if leave_day.weekday() == 0 else "15 h")
    order_day = booking.starts_at.astimezone(SH).date()
    cell = page.locator(f"#calendar td[data-date='{order_day:%Y-%m-%d}']")
    assert cell.locator(".count").inner_text() == "1"
    cell.get_by_role("link").click()
    assert page.evaluate("location.hash") == f"#day-{order_day:%Y%m%d}"
    days = page.locator("#calendar td").evaluate_all(
        "cells => cells.map(c => [c.dataset.date, c.querySelector('small').innerText])"
    )
    assert len(days) == 28
    for date, said in days:
        weekday = dt.date.fromisoformat(date).weekday()
        if weekday >= 5:
            assert said == "off", (date, said)
        elif date != f"{leave_day:%Y-%m-%d}":  # 9:00–18:00 off that day
            assert said == ("24 h" if weekday else "15.5 h"), (date, said)  # Mondays from 8:30
    shoot(page, "provider-en-calendar")
    assert axe_violations(page) == []

    page.goto(f"{live_server.url}/pro/needs/")
    card = page.locator(f"[data-need='{need.pk}']")
    assert "¥200.00" in card.inner_text() and "12 扇窗" in card.inner_text()
    card.locator("input[name=price]").fill("180")
    card.locator("input[name=message]").fill("带梯子")
    shoot(page, "provider-en-task-hall")
    assert axe_violations(page) == []
    card.get_by_role("button", name="Apply").click()
    page.wait_for_selector("#flash")
    application = Application.objects.get(need=need, provider=zhou)
    assert (application.price_fen, application.message) == (18000, "带梯子")
    assert "Applied" in page.locator(f"[data-need='{need.pk}']").inner_text()
