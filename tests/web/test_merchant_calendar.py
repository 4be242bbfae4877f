"""The merchant's calendar in Chromium: the owner writes a week template, fills next week with
it, sees a customer's booking counted in its slot, cannot set the places below what is booked,
closes the slot with a message that reaches the customer, and closes a day; a clerk reads the
week but changes nothing."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils import timezone

from tests.web.conftest import PHONE, axe_violations, shoot
from tests.web.test_customer_pages import off_the_loop, with_password
from yuyue.notifications.models import Notice
from yuyue.orders.placing import book_slot
from yuyue.scheduling.models import SlotStatus, TimeSlot

DESK = {"width": 1366, "height": 900}
SH = dt.timezone(dt.timedelta(hours=8))


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_owner_fills_a_week_and_closes_a_slot_with_a_message(
    language, live_server, chromium, owner, merchant, hall, hall_service, customer
):
    english = language == "en"
    t = {
        "sign_in": "Sign in" if english else "登录",
        "save_template": "Save the template" if english else "保存模板",
        "make": "Make the slots" if english else "生成时段",
        "change": "Change" if english else "修改",
        "save_places": "Save places" if english else "保存名额",
        "close": "Close this slot" if english else "关闭该时段",
        "close_day": "Close the day" if english else "关闭当天",
        "close_all": "Close every slot of this day" if english else "关闭当天所有时段",
    }
    today = timezone.now().astimezone(SH).date()
    monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=7)
    page = chromium.new_context(
        viewport=DESK if english else PHONE, locale="en-US" if english else "zh-CN"
    ).new_page()
    with_password(page, live_server.url, owner, "/shop/calendar/", t["sign_in"])
    page.fill("#t-name", "Weekdays")
    page.fill("#t-start-0", "09:00")
    page.fill("#t-end-0", "10:00")
    page.fill("#t-cap-0", "10")
    page.fill("#t-start-1", "14:00")
    page.fill("#t-end-1", "15:30")
    page.get_by_role("button", name=t["save_template"]).click()
    page.wait_for_selector("#flash")
    page.locator("#next-week").click()
    page.wait_for_url(re.compile(rf"week={monday:%Y-%m-%d}"))
    page.get_by_role("button", name=t["make"]).click()
    page.wait_for_selector("#flash")
    slots = TimeSlot.objects.filter(service=hall_service, hall=hall).order_by("starts_at")
    assert slots.count() == 10  # two a day, Monday to Friday
    assert page.locator("#week [data-slot]").count() == 10
    assert (
        page.locator(
            f"#week [data-date='{monday + dt.timedelta(days=5):%Y-%m-%d}'] [data-slot]"
        ).count()
        == 0
    )

    first = slots.first()
    off_the_loop(book_slot, actor=customer, slot_id=first.pk, places=2, participants=None)
    page.reload()
    card = page.locator(f"[data-slot='{first.pk}']")
    assert ("2 / 10 booked" if english else "已约 2 / 10") in card.inner_text()
    assert ("8 left" if english else "剩 8") in card.inner_text()
    card.get_by_text(t["change"], exact=True).click()
    card.locator("input[name=capacity]").fill("1")  # below the 2 booked: refused
    card.get_by_role("button", name=t["save_places"]).click()
    page.wait_for_selector("#flash")
    assert TimeSlot.objects.get(pk=first.pk).capacity == 10
    assert "2" in page.inner_text("#flash")
    card = page.locator(f"[data-slot='{first.pk}']")
    card.get_by_text(t["change"], exact=True).click()
    card.locator("input[name=message]").fill("Lift under repair: please use the stairs")
    shoot(page, f"merchant-{language}-calendar")
    assert axe_violations(page) == []
    card.get_by_role("button", name=t["close"]).click()
    page.wait_for_selector("#flash")
    assert TimeSlot.objects.get(pk=first.pk).status == SlotStatus.CLOSED
    told = Notice.objects.get(user=customer, kind="slot.closed")
    assert told.payload["message"] == "Lift under repair: please use the stairs"

    tuesday = f"{monday + dt.timedelta(days=1):%Y-%m-%d}"
    day = page.locator(f"#week [data-date='{tuesday}']")
    day.get_by_text(t["close_day"], exact=True).click()
    day.get_by_role("button", name=t["close_all"]).click()
    page.wait_for_selector("#flash")
    closed = TimeSlot.objects.filter(status=SlotStatus.CLOSED).count()
    assert closed == 3  # Monday's first, Tuesday's two
    assert page.locator("#week .slot.closed").count() == closed


@pytest.mark.django_db
def test_a_clerk_reads_the_week_and_changes_nothing(clerk, merchant, hall, hall_service):
    start = timezone.now() + dt.timedelta(hours=2)
    slot = TimeSlot.objects.create(
        service=hall_service,
        hall=hall,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        capacity=5,
    )
    page = Client()
    page.force_login(clerk)
    week = page.get(f"/shop/calendar/?week={start.astimezone(SH):%Y-%m-%d}").content.decode()
    assert (
        f'data-slot="{slot.pk}"' in week
        and "Close this slot" not in week
        and "关闭该时段" not in week
    )
    assert (
        page.post(f"/shop/slots/{slot.pk}/", {"action": "capacity", "capacity": "50"}).status_code
        == 403
    )
    assert page.post(f"/shop/slots/{slot.pk}/", {"action": "close"}).status_code == 403
    assert TimeSlot.objects.get(pk=slot.pk).capacity == 5
