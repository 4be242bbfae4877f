"""The roster 排班 in Chromium: the manager ticks two providers, sets their week (weekdays
9:00–17:00) at once, then gives one of them a day of leave; the week shows it; a provider of
another merchant cannot be set through the page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import make_user
from tests.web.conftest import PHONE, axe_violations, shoot
from tests.web.test_customer_pages import with_password
from yuyue.accounts.models import Provider
from yuyue.scheduling.models import AvailabilityException, WorkingHours


def person(merchant, name):
    return Provider.objects.create(
        user=make_user(name), merchant=merchant, display_name=name, verified=True
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_manager_sets_a_week_for_many_and_gives_leave(
    language, live_server, chromium, owner, merchant
):
    english = language == "en"
    zhou, wu, li = (person(merchant, n) for n in ("Zhou", "Wu", "Li"))
    WorkingHours.objects.create(provider=li, weekday=0, start=dt.time(6), end=dt.time(8))
    today = timezone.now().astimezone(dt.timezone(dt.timedelta(hours=8))).date()
    monday = today - dt.timedelta(days=today.weekday()) + dt.timedelta(days=7)
    page = chromium.new_context(viewport=PHONE, locale="en-US" if english else "zh-CN").new_page()
    with_password(
        page,
        live_server.url,
        owner,
        f"/shop/providers/?week={monday}",
        "Sign in" if english else "登录",
    )
    page.check(f"#pick-{zhou.pk}")
    page.check(f"#pick-{wu.pk}")
    page.fill("#w-start", "09:00")
    page.fill("#w-end", "17:00")
    page.get_by_role("button", name="Set their week" if english else "设置排班").click()
    page.wait_for_selector("#flash")
    for p in (zhou, wu):
        hours = sorted(
            WorkingHours.objects.filter(provider=p).values_list("weekday", "start", "end")
        )
        assert hours == [(d, dt.time(9), dt.time(17)) for d in range(5)]
    assert WorkingHours.objects.filter(provider=li).count() == 1  # not ticked: unchanged
    row = page.locator(f"[data-provider='{zhou.pk}'] td.hours")
    assert [row.nth(i).inner_text() for i in range(7)] == ["09:00–17:00"] * 5 + ["—", "—"]

    page.check(f"#pick-{wu.pk}")
    page.fill("#l-date", f"{monday + dt.timedelta(days=2):%Y-%m-%d}")
    page.get_by_role("button", name="Give leave" if english else "安排请假").click()
    page.wait_for_selector("#flash")
    leave = AvailabilityException.objects.get(provider=wu)
    assert leave.date == monday + dt.timedelta(days=2) and leave.kind == "leave"
    row = page.locator(f"[data-provider='{wu.pk}'] td.hours")
    assert row.nth(2).inner_text() == "—"  # Wednesday off
    shoot(page, f"merchant-{language}-roster")
    assert axe_violations(page) == []


@pytest.mark.django_db
def test_the_roster_reaches_only_the_merchants_providers(owner, merchant, other_merchant, clerk):
    theirs = person(other_merchant, "Moon worker")
    page = Client()
    page.force_login(owner)
    page.post(
        "/shop/providers/week/",
        {"provider": [theirs.pk], "start": "09:00", "end": "17:00", "day-0": "on"},
    )
    assert not WorkingHours.objects.filter(provider=theirs).exists()
    assert f'data-provider="{theirs.pk}"' not in page.get("/shop/providers/").content.decode()
    as_clerk = Client()
    as_clerk.force_login(clerk)
    assert as_clerk.get("/shop/providers/").status_code == 403
