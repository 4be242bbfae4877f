"""The merchant's desk in Chromium: a clerk checks a customer in by pointing the laptop's camera
at the customer's QR code (Chromium's fake camera plays a video made from the booking's own QR
image), and by typing codes that are already used, of another merchant, or of another day; the
booking list with its filters, phones whole for the owner and masked for the clerk, the Excel
export, and cancelling with a reason. Nobody reaches another merchant's bookings."""

from __future__ import annotations

import datetime as dt
import io
import re
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook
from PIL import Image

from tests.web.conftest import PHONE, axe_violations, launch, shoot
from tests.web.test_customer_pages import with_password
from yuyue.catalog.models import Hall, Service, ServiceKind
from yuyue.orders.models import Booking, BookingStatus
from yuyue.orders.placing import book_slot
from yuyue.scheduling.models import TimeSlot

DESK = {"width": 1280, "height": 800}
SH = ZoneInfo("Asia/Shanghai")  # the merchant fixture's zone


def y4m_of(png: bytes, path, size=(640, 480)) -> None:
    """A one-frame Y4M video (4:2:0) of the picture centred on white: what Chromium's fake
    camera plays over and over."""
    qr = Image.open(io.BytesIO(png)).convert("RGB")
    qr = qr.resize((300, 300), Image.NEAREST)
    frame = Image.new("RGB", size, "white")
    frame.paste(qr, ((size[0] - 300) // 2, (size[1] - 300) // 2))
    y, cb, cr = frame.convert("YCbCr").split()
    half = (size[0] // 2, size[1] // 2)
    with open(path, "wb") as out:
        out.write(f"YUV4MPEG2 W{size[0]} H{size[1]} F10:1 Ip A1:1 C420jpeg\n".encode())
        out.write(b"FRAME\n")
        out.write(y.tobytes())
        out.write(cb.resize(half, Image.BILINEAR).tobytes())
        out.write(cr.resize(half, Image.BILINEAR).tobytes())


def booked(customer, service, hall, *, at=None, places=1) -> Booking:
    """A booking of a slot today (the slot made for an hour from now, then moved to now: the
    counter checks in only on the booking's own day)."""
    start = (timezone.now() + dt.timedelta(hours=1)).replace(second=0, microsecond=0)
    start += dt.timedelta(minutes=Booking.objects.count())  # one slot per booking
    slot = TimeSlot.objects.create(
        service=service,
        hall=hall,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        capacity=10,
    )
    booking = book_slot(actor=customer, slot_id=slot.pk, places=places, participants=None)
    when = (at or timezone.now()).replace(second=0, microsecond=0)
    if at is None and when.astimezone(SH).hour == 0:  # a booking today, not yesterday
        when += dt.timedelta(minutes=Booking.objects.count())
    else:
        when -= dt.timedelta(minutes=Booking.objects.count())
    Booking.objects.filter(pk=booking.pk).update(
        starts_at=when, ends_at=when + dt.timedelta(hours=1)
    )
    TimeSlot.objects.filter(pk=slot.pk).update(starts_at=when, ends_at=when + dt.timedelta(hours=1))
    booking.refresh_from_db()
    return booking


@pytest.fixture
def counter(db, merchant, hall, hall_service, clerk, owner, customer, other_merchant):
    other_hall = Hall.objects.create(merchant=other_merchant, name="Moon hall")
    other_service = Service.objects.create(
        merchant=other_merchant,
        name="Moon photo",
        kind=ServiceKind.HALL_SLOT,
        duration_minutes=60,
        base_price_fen=0,
    )
    return {
        "mine": booked(customer, hall_service, hall),
        "used": booked(customer, hall_service, hall, places=2),
        "tomorrow": booked(
            customer, hall_service, hall, at=timezone.now() + dt.timedelta(days=1, hours=1)
        ),
        "theirs": booked(customer, other_service, other_hall),
    }


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_a_clerk_checks_a_customer_in_with_the_camera(
    language, live_server, counter, clerk, tmp_path, playwright_running
):
    english = language == "en"
    mine = counter["mine"]
    Booking.objects.filter(pk=counter["used"].pk).update(
        status=BookingStatus.CHECKED_IN, checked_in_at=timezone.now()
    )
    video = tmp_path / "qr.y4m"
    y4m_of(Client().get(f"/bookings/{mine.code}/qr.png").content, video)
    camera = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    browser = launch(playwright_running, *camera)
    try:
        context = browser.new_context(
            viewport=DESK if english else PHONE, locale="en-US" if english else "zh-CN"
        )
        context.grant_permissions(["camera"])
        page = context.new_page()
        with_password(page, live_server.url, clerk, "/shop/", "Sign in" if english else "登录")
        page.get_by_role("link", name="Check in" if english else "核销", exact=True).first.click()
        page.wait_for_url(re.compile(r"/shop/checkin/$"))
        page.get_by_role(
            "button", name="Scan the customer's QR code" if english else "扫描客户的二维码"
        ).click()
        answer = page.wait_for_selector("#checkin-answer[data-code=checked_in]", timeout=30_000)
        assert ("Checked in" if english else "已核销") in answer.inner_text()
        assert "Passport photo" in answer.inner_text()
        mine.refresh_from_db()
        assert mine.status == BookingStatus.CHECKED_IN and mine.checked_in_by_id == clerk.pk
        shoot(page, f"merchant-{language}-checkin-scanned")
        page.get_by_role("button", name="Stop the camera" if english else "关闭摄像头").click()
        assert axe_violations(page) == []

        def typed(code: str) -> str:
            page.fill("#code", code)
            page.locator("#code-form button").click()
            page.wait_for_function(
                "c => document.querySelector('#checkin-answer')?.dataset.code === c",
                arg=expected,
            )
            return page.inner_text("#checkin-answer")

        expected = "already_checked_in"
        said = typed(counter["used"].code.lower())  # the customer read it out in lower case
        assert ("Already checked in" if english else "已核销过") in said
        expected = "not_today"
        said = typed(counter["tomorrow"].code)
        assert counter["tomorrow"].code in said
        expected = "wrong_merchant"
        said = typed(counter["theirs"].code)
        assert "Moon" not in said  # nothing of another merchant's booking is shown
        shoot(page, f"merchant-{language}-checkin-wrong-merchant")
        assert axe_violations(page) == []
        expected = "code_unknown"
        typed("ZZZZZZZZZZ")
    finally:
        browser.close()
    assert Booking.objects.get(pk=counter["theirs"].pk).status == BookingStatus.BOOKED


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_booking_list_filters_masks_exports_and_cancels(
    live_server, chromium, counter, owner, clerk, customer
):
    mine = counter["mine"]
    page = chromium.new_context(viewport=PHONE, locale="en-US", accept_downloads=True).new_page()
    with_password(page, live_server.url, owner, "/shop/bookings/", "Sign in")
    rows = page.locator("#booking-list tbody tr[data-booking]")
    assert rows.count() == 3  # the merchant's three, not the other merchant's
    assert customer.phone in page.inner_text("#booking-list")  # the owner sees it whole
    page.fill("#f-q", customer.phone[-11:])  # a whole phone number, typed as people do
    page.keyboard.press("Enter")
    page.wait_for_function(
        "document.querySelectorAll('#booking-list tbody tr[data-booking]').length === 3"
    )
    page.fill("#f-q", mine.code)
    page.keyboard.press("Enter")
    page.wait_for_function(
        "document.querySelectorAll('#booking-list tbody tr[data-booking]').length === 1"
    )
    assert "q=" in page.url  # the filters stay in the address
    page.fill("#f-q", "")
    page.select_option("#f-status", "booked")
    page.fill("#f-from", f"{timezone.localdate() + dt.timedelta(days=1):%Y-%m-%d}")
    page.locator("#f-from").dispatch_event("change")
    page.wait_for_function(
        "id => [...document.querySelectorAll('#booking-list tbody tr[data-booking]')]"
        ".map(r => r.dataset.booking).join() === id",
        arg=str(counter["tomorrow"].pk),
    )
    with page.expect_download() as got:
        page.locator("#export").click()
    sheet = load_workbook(io.BytesIO(got.value.path().read_bytes())).active
    codes = [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert codes == [counter["tomorrow"].code]
    shoot(page, "merchant-en-bookings")
    assert axe_violations(page) == []

    page.goto(f"{live_server.url}/shop/bookings/{mine.pk}/")
    page.fill("#reason", "Hall closed for repairs")
    page.get_by_role("button", name="Cancel this booking").click()
    page.wait_for_selector("#flash")
    mine.refresh_from_db()
    assert mine.status == BookingStatus.CANCELLED_BY_STAFF
    assert mine.cancel_reason == "Hall closed for repairs"
    assert page.inner_text("#cancel-reason") == "Hall closed for repairs"
    shoot(page, "merchant-en-booking-cancelled")
    assert axe_violations(page) == []

    clerk_page = chromium.new_context(viewport=PHONE, locale="en-US").new_page()
    with_password(clerk_page, live_server.url, clerk, "/shop/bookings/", "Sign in")
    listing = clerk_page.inner_text("#booking-list")
    assert customer.phone not in listing and customer.masked_phone in listing


@pytest.mark.django_db
def test_nobody_reaches_another_merchants_bookings(counter, clerk, customer, other_merchant):
    theirs = counter["theirs"]
    staff = Client()
    staff.force_login(clerk)
    assert staff.get(f"/shop/bookings/{theirs.pk}/").status_code == 404
    assert staff.post(f"/shop/bookings/{theirs.pk}/", {"reason": "x"}).status_code == 404
    found = staff.get("/shop/bookings/?q=" + theirs.code).content.decode()
    assert f'data-booking="{theirs.pk}"' not in found and "data-booking=" not in found
    sheet = load_workbook(io.BytesIO(staff.get("/shop/bookings/export.xlsx").content)).active
    assert theirs.code not in [r[1] for r in sheet.iter_rows(min_row=2, values_only=True)]
    # ?m= chooses among one's own workplaces only
    listed = staff.get(f"/shop/bookings/?m={other_merchant.pk}").content.decode()
    assert f'data-booking="{theirs.pk}"' not in listed
    assert f'data-booking="{counter["mine"].pk}"' in listed
    outsider = Client()
    outsider.force_login(customer)
    assert outsider.get("/shop/").status_code == 403
    assert outsider.get("/shop/bookings/export.xlsx").status_code == 403
    assert Client().get("/shop/checkin/").status_code == 302  # to sign in
    assert Booking.objects.get(pk=theirs.pk).status == BookingStatus.BOOKED
