"""The customer's pages in Chromium at phone size, in English and in Chinese: sign in by code,
book a hall slot with its form (errors next to the fields, nothing typed lost), pay from the
wallet, see the QR, cancel with the fee shown first, find it among my bookings; a slot that
fills while the page is open says so; two browsers race for the last place; nobody reaches
another customer's booking by changing an id."""

from __future__ import annotations

import datetime as dt
import re
import threading
from urllib.parse import quote
from zoneinfo import ZoneInfo

import httpx
import pytest
from django.test import Client
from django.utils import timezone

from tests.calls.conftest import top_up
from tests.conftest import make_user
from tests.livesrv import LiveServer, current_database_url
from tests.web.conftest import PHONE, axe_violations, loaded_width, shoot
from yuyue.accounts.models import Provider
from yuyue.accounts.tokens import issue_token
from yuyue.billing.payments import wallet
from yuyue.catalog.models import FieldType, FormField, Hall, Merchant, MerchantStatus, Service
from yuyue.notifications.models import Notice
from yuyue.notifications.sending import notify
from yuyue.orders.cancelling import cancel_booking
from yuyue.orders.models import Booking, BookingStatus
from yuyue.orders.placing import book_slot
from yuyue.scheduling.models import TimeSlot, WorkingHours

SH = ZoneInfo("Asia/Shanghai")
GOOD_ID = "11010519491231002X"  # a well-formed resident ID number (check digit X)


class Inbox:
    """The SMS sender of these tests: keeps the last code sent to each phone, in memory (the
    live server runs in this process)."""

    codes: dict[str, str] = {}

    def send(self, phone: str, code: str) -> None:
        Inbox.codes[phone] = code


TEXTS = {
    "en": {
        "locale": "en-US",
        "sign_in_to_book": "Sign in to book",
        "send": "Send me a code",
        "sign_in": "Sign in",
        "book": "Book",
        "left_2": "2 places left",
        "required": "This field is required.",
        "bad_id": "Enter a valid 18-character resident ID number.",
        "pay": "Pay ¥50.00 from my wallet",
        "paid": "Paid. See you there!",
        "cancel": "Cancel this booking",
        "reschedule": "Change the time",
        "move": "Move my booking here",
        "moved": "Moved to a new time",
        "fee": "Cancelling now keeps ¥10.00; ¥40.00 comes back to you.",
        "confirm": "Yes, cancel this booking",
        "cancelled": "Cancelled",
        "filled": "The time you chose has just filled up: choose another.",
        "full": "Full",
        "mine": "My bookings",
    },
    "zh-hans": {
        "locale": "zh-CN",
        "sign_in_to_book": "登录后预约",
        "send": "获取验证码",
        "sign_in": "登录",
        "book": "预约",
        "left_2": "剩 2 位",
        "required": "此项必填。",
        "bad_id": "请填写有效的 18 位居民身份证号。",
        "pay": "用钱包支付 ¥50.00",
        "paid": "已支付，到时见！",
        "cancel": "取消此预约",
        "reschedule": "改期",
        "move": "改到这个时段",
        "moved": "已改期",
        "fee": "现在取消将扣 ¥10.00，退回 ¥40.00。",
        "confirm": "确认取消",
        "cancelled": "已取消",
        "filled": "您选的时段刚刚约满，请另选。",
        "full": "已约满",
        "mine": "我的预约",
    },
}


@pytest.fixture
def passport(db, settings):
    """A hall that sells passport appointments two days ahead: ¥50 a place, a form (name and
    ID number), free cancellation until 72 h before (so within 72 h, 20% is kept)."""
    settings.YUYUE_OTP_SENDER = "tests.web.test_customer_pages.Inbox"
    settings.YUYUE_SLOT_POLL_SECONDS = 1
    Inbox.codes.clear()
    merchant = Merchant.objects.create(
        name="市民服务中心 Citizen Hall", slug="citizen", status=MerchantStatus.ACTIVE
    )
    hall = Hall.objects.create(merchant=merchant, name="A 厅 Hall A")
    service = Service.objects.create(
        merchant=merchant,
        name="Passport 护照",
        kind="hall_slot",
        duration_minutes=60,
        base_price_fen=5000,
        refund_rules={"free_hours": 72, "fee_percent": 20},
    )
    FormField.objects.create(service=service, key="name", label="Name 姓名", type=FieldType.TEXT)
    FormField.objects.create(
        service=service, key="id", label="ID 身份证号", type=FieldType.ID_NUMBER, position=1
    )
    day = timezone.now().astimezone(SH).date() + dt.timedelta(days=2)
    slots = {}
    for hour, capacity in ((9, 2), (10, 1)):
        start = dt.datetime.combine(day, dt.time(hour), SH)
        slots[hour] = TimeSlot.objects.create(
            service=service,
            hall=hall,
            starts_at=start,
            ends_at=start + dt.timedelta(hours=1),
            capacity=capacity,
        )
    return service, day, slots


def off_the_loop(fn, **kwargs):
    """Run `fn` in a thread of its own: Playwright's event loop runs in this one, and what the
    platform does after a commit (a websocket push) must not run inside it."""
    from django.db import connections

    out, errors = [], []

    def work():
        try:
            out.append(fn(**kwargs))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert not errors, errors
    return out[0]


def run_worker() -> None:
    """What `db_worker --batch` runs, without its signal handlers (main thread only)."""
    from django_tasks_db.management.commands.db_worker import Worker

    worker = Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="page-tests",
        excluded_queue_names=[],
    )
    off_the_loop(worker.run)


def page_has_link(page, href: str) -> bool:
    return page.locator(f"a[href='{href}']").count() > 0


def with_password(page, base: str, user, then: str, sign_in: str) -> None:
    """Sign in through the page's password form (`sign_in`: the button's name in the page's
    language) and land on `then`."""
    page.goto(f"{base}/sign-in/?with=password&next={quote(then)}")
    page.fill("#phone", user.phone)
    page.fill("#password", "s3cret-pass")
    page.get_by_role("button", name=sign_in, exact=True).click()
    page.wait_for_url(re.compile(re.escape(then.split("?")[0])))


def _sign_in(page, phone: str, t: dict) -> None:
    page.fill("#phone", phone)
    page.get_by_role("button", name=t["send"]).click()
    page.wait_for_selector("#code")
    page.fill("#code", Inbox.codes["+86" + phone])
    page.get_by_role("button", name=t["sign_in"], exact=True).click()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_book_pay_see_the_code_and_cancel_with_the_fee_shown(
    language, live_server, passport, chromium
):
    service, day, slots = passport
    t = TEXTS[language]
    phone = "13800138000" if language == "en" else "13800138001"
    page = chromium.new_page(viewport=PHONE, locale=t["locale"])
    page.goto(f"{live_server.url}/services/{service.pk}/?day={day:%Y-%m-%d}")
    assert t["left_2"] in page.inner_text("#slots")
    shoot(page, f"customer-{language}-1-service")
    assert axe_violations(page) == []
    page.get_by_role("link", name=t["sign_in_to_book"]).click()

    _sign_in(page, phone, t)
    page.wait_for_url(re.compile(rf"/services/{service.pk}/"))  # back where they were
    page.check(f"input[name=slot][value='{slots[9].pk}']")
    page.fill("#f-0-id", "123")  # a bad ID number, and no name
    page.get_by_role("button", name=t["book"], exact=True).click()
    page.wait_for_selector("#e-0-name")
    assert page.inner_text("#e-0-name") == t["required"]
    assert page.inner_text("#e-0-id") == t["bad_id"]
    assert page.input_value("#f-0-id") == "123"  # nothing typed is lost
    assert page.get_attribute("#f-0-id", "aria-invalid") == "true"
    assert page.is_checked(f"input[name=slot][value='{slots[9].pk}']")
    shoot(page, f"customer-{language}-2-field-errors")
    assert axe_violations(page) == []
    assert not Booking.objects.exists()

    page.fill("#f-0-name", "张三")
    page.fill("#f-0-id", GOOD_ID)
    page.get_by_role("button", name=t["book"], exact=True).click()
    page.wait_for_url(re.compile(r"/my/bookings/\d+/pay/"))
    booking = Booking.objects.get()
    top_up(booking.customer, 8000)
    page.reload()
    assert page.inner_text("#due") == "¥50.00"
    shoot(page, f"customer-{language}-3-pay")
    assert axe_violations(page) == []
    page.get_by_role("button", name=t["pay"]).click()
    page.wait_for_url(re.compile(rf"/my/bookings/{booking.pk}/\?paid=1"))
    assert t["paid"] in page.inner_text("main")
    assert page.inner_text("#code") == booking.code
    assert loaded_width(page, "img.qr") > 0
    assert wallet(booking.customer_id).available == 3000
    shoot(page, f"customer-{language}-4-booked")
    assert axe_violations(page) == []

    page.get_by_role("link", name=t["reschedule"]).click()  # to 10:00, the same price
    page.check(f"input[name=slot][value='{slots[10].pk}']")
    shoot(page, f"customer-{language}-5-reschedule")
    assert axe_violations(page) == []
    page.get_by_role("button", name=t["move"]).click()
    page.wait_for_url(re.compile(rf"/my/bookings/{booking.pk}/\?moved=1"))
    assert "10:00–11:00" in page.inner_text("main")
    assert t["moved"] in page.inner_text("ol.timeline")
    booking.refresh_from_db()
    assert booking.slot_id == slots[10].pk
    assert [s.booked for s in TimeSlot.objects.order_by("starts_at")] == [0, 1]

    page.get_by_role("link", name=t["cancel"]).click()
    assert t["fee"] in page.inner_text("#cancel")  # the fee before confirming
    shoot(page, f"customer-{language}-6-cancel")
    page.get_by_role("button", name=t["confirm"]).click()
    page.wait_for_load_state()
    assert page.inner_text("#status") == t["cancelled"]
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CANCELLED
    refund = {"en": "¥40.00 refunded on", "zh-hans": "已退款 ¥40.00"}[language]
    if refund not in page.inner_text("main"):  # the refund job may not have run yet
        assert page.is_visible("#refund")
        run_worker()
        page.reload()
    assert refund in page.inner_text("#refund")
    assert wallet(booking.customer_id).available == 3000 + 4000  # ¥40 back, ¥10 kept

    page.get_by_role("link", name=t["mine"], exact=True).click()
    page.get_by_role("link", name=t["cancelled"], exact=True).click()
    page.wait_for_url(re.compile(r"view=cancelled"))
    assert "Passport" in page.inner_text("main")
    shoot(page, f"customer-{language}-7-my-bookings")
    assert axe_violations(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_slot_that_fills_while_the_page_is_open_says_so(live_server, passport, chromium):
    service, day, slots = passport
    customer = make_user("Early bird")
    page = chromium.new_page(viewport=PHONE, locale="en-US")
    page.goto(f"{live_server.url}/services/{service.pk}/?day={day:%Y-%m-%d}")
    page.check(f"input[name=slot][value='{slots[10].pk}']")
    book_slot(  # someone else takes the last place meanwhile
        actor=customer,
        slot_id=slots[10].pk,
        places=1,
        participants=[{"answers": {"name": "李四", "id": GOOD_ID}}],
    )
    page.wait_for_selector("text=" + TEXTS["en"]["filled"], timeout=10_000)
    assert TEXTS["en"]["full"] in page.inner_text(f"[data-slot='{slots[10].pk}']")
    shoot(page, "customer-en-slot-filled")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_two_browsers_race_for_the_last_place(live_server, passport, chromium):
    """Both have the 10:00 slot (one place) chosen and the form filled; both press Book at
    once. One goes on to pay; the other stays on the page, told the slot is full."""
    service, day, slots = passport
    pages = []
    for i, phone in enumerate(("13900139000", "13900139001")):
        page = chromium.new_context(viewport=PHONE, locale="en-US").new_page()
        page.goto(f"{live_server.url}/sign-in/?next=/services/{service.pk}/?day={day:%Y-%m-%d}")
        _sign_in(page, phone, TEXTS["en"])
        page.wait_for_url(re.compile(rf"/services/{service.pk}/"))
        page.check(f"input[name=slot][value='{slots[10].pk}']")
        page.fill("#f-0-name", f"Racer {i}")
        page.fill("#f-0-id", GOOD_ID)
        pages.append(page)
    for page in pages:  # both submit before either answer is read
        page.evaluate("document.getElementById('book-form').requestSubmit()")
    for page in pages:  # each lands on the payment or back on the form with the reason
        page.wait_for_function(
            "location.pathname.includes('/pay/') || !!document.querySelector('#form-error')"
        )
    outcomes = sorted("/pay/" in p.url for p in pages)
    assert outcomes == [False, True]
    loser = next(p for p in pages if "/pay/" not in p.url)
    assert loser.is_visible("#form-error")
    assert "full" in loser.inner_text("#form-error").lower()
    assert Booking.objects.filter(slot=slots[10]).count() == 1
    shoot(loser, "customer-en-race-lost")
    assert axe_violations(loser) == []

    # the loser waits for the place, with the form as typed; the winner gives it up
    loser.get_by_role("button", name="Join the waiting list").click()
    loser.wait_for_url(re.compile(r"/my/bookings/\?waiting=1"))
    assert "Passport" in loser.inner_text("#waiting")
    shoot(loser, "customer-en-waiting")
    assert axe_violations(loser) == []
    won = Booking.objects.get(slot=slots[10])
    off_the_loop(cancel_booking, actor=won.customer, booking_id=won.pk)
    run_worker()
    mine = Booking.objects.exclude(pk=won.pk).get(slot=slots[10])
    assert mine.status == BookingStatus.AWAITING_PAYMENT  # theirs to pay, by its deadline
    assert mine.participants.get().answers["name"].startswith("Racer")
    loser.goto(f"{live_server.url}/my/notices/")
    assert "A place came free: you are booked for Passport" in loser.inner_text("#notices")
    loser.goto(f"{live_server.url}/my/bookings/")
    assert page_has_link(loser, f"/my/bookings/{mine.pk}/")
    assert loser.locator("#waiting").count() == 0


@pytest.mark.django_db
def test_nobody_reaches_another_customers_booking(passport):
    """Every page of a booking answers 404 to anyone but its customer (as for a booking that
    does not exist), and changes nothing; signed out, the pages ask to sign in."""
    service, _, slots = passport
    owner, other = make_user("Owner"), make_user("Other")
    booking = book_slot(
        actor=owner,
        slot_id=slots[9].pk,
        places=1,
        participants=[{"answers": {"name": "Owner", "id": GOOD_ID}}],
    )
    stranger = Client()
    stranger.force_login(other)
    for url in (f"/my/bookings/{booking.pk}/", f"/my/bookings/{booking.pk}/pay/"):
        assert stranger.get(url).status_code == 404
    assert stranger.post(f"/my/bookings/{booking.pk}/cancel/").status_code == 404
    assert stranger.post(f"/my/bookings/{booking.pk}/pay/").status_code == 404
    booking.refresh_from_db()
    assert booking.status == BookingStatus.AWAITING_PAYMENT
    listed = stranger.get("/my/bookings/?view=all").content.decode()
    assert f"/my/bookings/{booking.pk}/" not in listed and "Passport" not in listed
    anonymous = Client()
    response = anonymous.get(f"/my/bookings/{booking.pk}/")
    assert response.status_code == 302 and response["Location"].startswith("/sign-in/")
    assert anonymous.post(f"/my/bookings/{booking.pk}/cancel/").status_code == 302
    booking.refresh_from_db()
    assert booking.status == BookingStatus.AWAITING_PAYMENT


@pytest.mark.django_db
def test_pages_refuse_a_post_without_the_csrf_token(passport):
    service, _, slots = passport
    owner = make_user("Owner")
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(
        f"/services/{service.pk}/",
        {"slot": slots[9].pk, "places": 1, "0-name": "x", "0-id": GOOD_ID},
    )
    assert response.status_code == 403
    assert not Booking.objects.exists()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_wallet_and_notices(language, live_server, passport, chromium):
    """Signed in with a password: the header counts the unread notice; the inbox says it in
    the page's language and marks it read in place; the wallet shows the balance and the
    top-up from the ledger."""
    user = make_user("Wallet Wang", password="s3cret-pass")
    top_up(user, 8000)
    notify(user.pk, "booking.reminder", service="Passport 护照", minutes_before=15)
    t = {
        "en": (
            "Sign in",
            "Notices",
            "Passport 护照 starts in 15 minutes.",
            "Mark as read",
            "Wallet",
            "Top-up",
        ),
        "zh-hans": (
            "登录",
            "消息",
            "Passport 护照 将在 15 分钟后开始。",
            "标为已读",
            "钱包",
            "充值",
        ),
    }[language]
    page = chromium.new_page(viewport=PHONE, locale=TEXTS[language]["locale"])
    with_password(page, live_server.url, user, "/my/notices/", t[0])
    assert page.inner_text("#notices-link .badge") == "1"
    notice = page.locator("#notices li").first
    assert t[2] in notice.inner_text() and notice.get_attribute("data-read") == "0"
    shoot(page, f"customer-{language}-notices")
    assert axe_violations(page) == []
    notice.get_by_role("button", name=t[3]).click()
    page.wait_for_selector("#notices li[data-read='1']")
    assert Notice.objects.get(user=user).read_at is not None

    page.goto(f"{live_server.url}/my/wallet/")
    assert page.inner_text("#available") == "¥80.00"
    history = page.inner_text("#history")
    assert t[5] in history and "+¥80.00" in history
    shoot(page, f"customer-{language}-wallet")
    assert axe_violations(page) == []


@pytest.mark.django_db
def test_nobody_marks_another_customers_notice():
    owner, other = make_user("Owner"), make_user("Other")
    notify(owner.pk, "need.application", need=1, price_fen=100)
    notice = Notice.objects.get(user=owner)
    stranger = Client()
    stranger.force_login(other)
    assert stranger.post(f"/my/notices/{notice.pk}/read/").status_code == 404
    assert "applied to your request" not in stranger.get("/my/notices/").content.decode()
    notice.refresh_from_db()
    assert notice.read_at is None


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_book_a_voice_consultation_and_join_its_room(language, live_server, passport, chromium):
    """A consultant free tomorrow: the customer picks a length and a start, sees what it may
    cost at most, books (nothing paid now), and the booking page takes them into the room."""
    service, _, _ = passport
    call = Service.objects.create(
        merchant=service.merchant,
        name="Legal advice by voice",
        kind="remote",
        duration_minutes=15,
        step_minutes=15,
        base_price_fen=120,
        call_rules={"grace_seconds": 20, "billing": "per_second"},
    )
    lawyer = Provider.objects.create(
        user=make_user("Lawyer Gao"),
        merchant=service.merchant,
        display_name="Gao",
        verified=True,
        rate_per_minute_fen=200,
    )
    lawyer.services.add(call)
    for day in range(7):
        WorkingHours.objects.create(provider=lawyer, weekday=day, start=dt.time(9), end=dt.time(12))
    customer = make_user("Client Qian", password="s3cret-pass")
    top_up(customer, 10_000)
    tomorrow = timezone.now().astimezone(SH).date() + dt.timedelta(days=1)
    t = {
        "en": ("Sign in", "¥2.00/min", "At most ¥{}", "Book the call", "Join the call"),
        "zh-hans": ("登录", "¥2.00/分钟", "整段时长最多 ¥{}", "预约通话", "进入通话"),
    }[language]
    page = chromium.new_page(viewport=PHONE, locale=TEXTS[language]["locale"])
    with_password(page, live_server.url, customer, f"/services/{call.pk}/?day={tomorrow}", t[0])
    gao = page.locator(f"[data-consultant='{lawyer.pk}']")
    assert t[1] in gao.inner_text()
    assert t[2].format("30.00") in gao.inner_text()  # 15 min at ¥2.00
    assert "11:45" in gao.inner_text()
    page.select_option("#minutes", "30")  # the starts and the most it may cost follow
    page.wait_for_url(re.compile(r"minutes=30"))
    gao = page.locator(f"[data-consultant='{lawyer.pk}']")
    assert t[2].format("60.00") in gao.inner_text() and "11:45" not in gao.inner_text()
    gao.get_by_text("10:00", exact=True).click()
    shoot(page, f"customer-{language}-call-service")
    assert axe_violations(page) == []
    page.get_by_role("button", name=t[3]).click()
    page.wait_for_url(re.compile(r"/my/bookings/\d+/$"))
    booking = Booking.objects.get(customer=customer)
    assert (booking.provider_id, booking.channel) == (lawyer.pk, "call")
    assert booking.starts_at == dt.datetime.combine(tomorrow, dt.time(10), SH)
    assert booking.ends_at - booking.starts_at == dt.timedelta(minutes=30)
    assert "10:00–10:30" in page.inner_text("main")
    assert wallet(customer.pk).available == 10_000  # nothing paid before the call
    shoot(page, f"customer-{language}-call-booked")
    assert axe_violations(page) == []
    page.get_by_role("button", name=t[4]).click()
    page.wait_for_url(re.compile(rf"/calls/{booking.pk}/#token="))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_order_a_service_at_home_pay_and_see_the_provider_come(passport, chromium):
    """Location from the browser, the times someone can come there, the address and a note;
    paid from the wallet; the booking shows "being found", then, after a dispatch round and the
    cleaner's acceptance, who is coming, with the code to give them."""
    service, _, _ = passport
    cleaning = Service.objects.create(
        merchant=service.merchant,
        name="Home cleaning",
        kind="on_site",
        duration_minutes=120,
        step_minutes=60,
        buffer_minutes=30,
        base_price_fen=12000,
    )
    home = (31.2304, 121.4737)
    cleaner = Provider.objects.create(
        user=make_user("Cleaner Zhou"),
        merchant=service.merchant,
        display_name="Zhou",
        verified=True,
        lat=home[0] + 0.01,
        lng=home[1],
        service_radius_km=10,
    )
    cleaner.services.add(cleaning)
    for day in range(7):
        WorkingHours.objects.create(
            provider=cleaner, weekday=day, start=dt.time(8), end=dt.time(12)
        )
    customer = make_user("Home Owner", password="s3cret-pass")
    top_up(customer, 20_000)
    tomorrow = timezone.now().astimezone(SH).date() + dt.timedelta(days=1)
    provider_key = issue_token(user=cleaner.user, via="password")[0]
    # websockets need the ASGI server; the cleaner's steps go through its API, so that their
    # pushes reach the page's socket (a day early here: the window is widened)
    live_server = LiveServer(
        current_database_url(),
        asgi=True,
        env={"YUYUE_STEP_EARLY_MINUTES": '{"depart": 4320}', "YUYUE_LOCATION_MIN_SECONDS": "0"},
    ).start()
    try:
        _order_at_home(
            live_server, chromium, cleaning, cleaner, customer, home, tomorrow, provider_key
        )
    finally:
        live_server.stop()


def _order_at_home(live_server, chromium, cleaning, cleaner, customer, home, tomorrow, key):
    context = chromium.new_context(
        viewport=PHONE,
        locale="zh-CN",
        geolocation={"latitude": home[0], "longitude": home[1]},
        permissions=["geolocation"],
    )
    page = context.new_page()
    with_password(page, live_server.url, customer, f"/services/{cleaning.pk}/", "登录")
    page.get_by_role("button", name="使用我的位置").click()
    page.wait_for_url(re.compile(r"lat=31\.2304"))
    page.locator(f"nav.days a[href*='day={tomorrow:%Y-%m-%d}']").click()
    page.wait_for_url(re.compile(f"day={tomorrow:%Y-%m-%d}"))
    times = page.inner_text("#times")
    assert "08:00" in times and "10:00" in times and "11:00" not in times  # 2 h must fit
    page.locator("#times label", has_text="10:00").click()
    page.fill("#address", "南京西路 1266 号 12 楼")
    page.fill("#notes", "门铃坏了，请打电话")
    shoot(page, "customer-zh-onsite")
    assert axe_violations(page) == []
    page.get_by_role("button", name="下单").click()
    page.wait_for_url(re.compile(r"/my/bookings/\d+/pay/"))
    page.get_by_role("button", name="用钱包支付 ¥120.00").click()
    page.wait_for_url(re.compile(r"/my/bookings/\d+/\?paid=1"))
    booking = Booking.objects.get(customer=customer)
    assert (booking.channel, booking.address) == ("dispatch", "南京西路 1266 号 12 楼")
    assert booking.options["notes"] == "门铃坏了，请打电话"
    assert booking.starts_at == dt.datetime.combine(tomorrow, dt.time(10), SH)
    assert page.inner_text("#provider") == "正在派单…"
    assert page.inner_text("#visit-code") == booking.code

    from yuyue.dispatch import services as dispatch

    (offer,) = off_the_loop(dispatch.run_dispatch_round)
    off_the_loop(dispatch.accept_offer, actor=cleaner.user, offer_id=offer.pk)
    page.reload()
    assert page.inner_text("#provider") == "Zhou"
    assert page.inner_text("#status") == "已接单"
    page.wait_for_function("document.getElementById('live').dataset.updates >= '1'")

    # the cleaner sets out and is on the way (through the provider API): no reload needed
    api = httpx.Client(base_url=live_server.url, headers={"Authorization": f"Bearer {key}"})
    start = {"lat": home[0] + 0.03, "lng": home[1]}
    assert api.post(f"/api/provider/orders/{booking.pk}/depart", json=start).status_code == 200
    page.wait_for_function("document.getElementById('live-status').textContent === '已出发'")
    # the page shares the provider's phone's position as they go: first where they set out
    assert api.post(f"/api/provider/orders/{booking.pk}/location", json=start).status_code == 200
    page.wait_for_function("document.getElementById('radar').dataset.places === '1'")
    assert page.inner_text("#distance") == "距您 3.3 公里"
    near = {"lat": home[0] + 0.005, "lng": home[1]}
    moved = api.post(f"/api/provider/orders/{booking.pk}/location", json=near)
    assert moved.status_code == 200, moved.text
    page.wait_for_function("document.getElementById('eta').textContent.includes('分钟到达')")
    assert f"约 {round(moved.json()['eta_minutes'])} 分钟到达" in page.inner_text("#eta")
    # and where they are: set out 3.3 km north (the outer ring 5 km), now 0.6 km away, the dot
    # moved down towards the address at the centre, the way behind it drawn
    page.wait_for_function("document.getElementById('radar').dataset.places >= '2'")
    assert page.is_visible("#radar")
    assert page.inner_text("#distance") == "距您 0.6 公里"
    assert page.inner_text("#ring") == "外圈 5 公里"
    dot = page.locator("#provider-dot")
    assert dot.get_attribute("cx") == "0.0" and -12 < float(dot.get_attribute("cy")) < -10
    assert len(page.get_attribute("#trail", "points").split()) == 2
    shoot(page, "customer-zh-onsite-on-the-way")
    assert axe_violations(page) == []
