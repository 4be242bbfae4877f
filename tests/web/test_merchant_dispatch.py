"""The dispatch board in Chromium: the merchant's manager sees an order nobody could take in
the exceptions column and an accepted one, opens the accepted one, sees the candidates with
their distance and why the far one cannot take it, and moves the order to another provider;
another merchant's order is not found."""

from __future__ import annotations

import datetime as dt
import random
import re

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import make_user
from tests.web.conftest import PHONE, axe_violations, shoot
from tests.web.test_customer_pages import with_password
from yuyue.accounts.models import Provider
from yuyue.dispatch import services as dispatch
from yuyue.orders.models import Booking, BookingStatus, Channel
from yuyue.scheduling.models import WorkingHours

HOME = (31.23, 121.47)
KM = 1 / 111.195


def hire(merchant, service, name, north_km):
    p = Provider.objects.create(
        user=make_user(name),
        merchant=merchant,
        display_name=name,
        verified=True,
        lat=HOME[0] + north_km * KM,
        lng=HOME[1],
        service_radius_km=10,
    )
    p.services.add(service)
    WorkingHours.objects.bulk_create(
        WorkingHours(provider=p, weekday=d, start=dt.time(0), end=dt.time(23, 59)) for d in range(7)
    )
    return p


def open_order(customer, service, hours_ahead, **extra):
    start = (timezone.now() + dt.timedelta(hours=hours_ahead)).replace(second=0, microsecond=0)
    return Booking.objects.create(
        customer=customer,
        merchant=service.merchant,
        service=service,
        channel=Channel.DISPATCH,
        status=BookingStatus.AWAITING_PROVIDER,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=service.duration_minutes),
        lat=HOME[0],
        lng=HOME[1],
        address="1 Nanjing Rd 1201",
        code=f"D{random.randrange(10**9):09d}",
        **extra,
    )


@pytest.fixture
def crew(merchant, onsite_service, customer, owner):
    zhou = hire(merchant, onsite_service, "Zhou", 1)
    wu = hire(merchant, onsite_service, "Wu", 3)
    far = hire(merchant, onsite_service, "Far Fang", 30)  # beyond their 10 km
    accepted = open_order(customer, onsite_service, 30)
    dispatch.assign_order(actor=owner, booking_id=accepted.pk, provider_id=zhou.pk)
    stuck = open_order(customer, onsite_service, 50, needs_operator=True)
    return {"zhou": zhou, "wu": wu, "far": far, "accepted": accepted, "stuck": stuck}


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_manager_moves_an_order_to_another_provider(crew, owner, live_server, chromium):
    accepted, stuck = crew["accepted"], crew["stuck"]
    page = chromium.new_context(viewport=PHONE, locale="en-US").new_page()
    with_password(page, live_server.url, owner, "/shop/dispatch/", "Sign in")
    assert page.locator(f"#col-exceptions [data-order='{stuck.pk}']").count() == 1
    assert "Zhou" in page.inner_text(f"#col-accepted [data-order='{accepted.pk}']")
    shoot(page, "merchant-en-dispatch")
    assert axe_violations(page) == []
    page.locator(f"#col-accepted [data-order='{accepted.pk}'] a").click()
    page.wait_for_url(re.compile(rf"/shop/dispatch/{accepted.pk}/$"))
    rows = page.locator("#candidates tbody tr[data-provider]")
    assert [rows.nth(i).get_attribute("data-provider") for i in range(rows.count())] == [
        str(crew["wu"].pk),
        str(crew["far"].pk),  # Zhou has it; Wu first, Far cannot
    ]
    assert "3.0 km" in rows.nth(0).inner_text()
    assert page.locator(f"[data-provider='{crew['far'].pk}'] .why-not").count() == 1
    shoot(page, "merchant-en-dispatch-order")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Give to Wu").click()
    page.wait_for_url(re.compile(r"/shop/dispatch/$"))
    accepted.refresh_from_db()
    assert accepted.provider_id == crew["wu"].pk and accepted.status == BookingStatus.ACCEPTED

    page.locator(f"#col-exceptions [data-order='{stuck.pk}'] a").click()
    page.wait_for_url(re.compile(rf"/shop/dispatch/{stuck.pk}/$"))
    page.get_by_role("button", name="Give to Zhou").click()
    page.wait_for_url(re.compile(r"/shop/dispatch/$"))
    stuck.refresh_from_db()
    assert (stuck.provider_id, stuck.status) == (crew["zhou"].pk, BookingStatus.ACCEPTED)
    assert page.locator(f"#col-exceptions [data-order='{stuck.pk}']").count() == 0


@pytest.mark.django_db
def test_the_board_is_the_merchants_own(crew, clerk, other_merchant, onsite_service):
    theirs_owner = make_user("Moon owner")
    from yuyue.accounts.models import MerchantStaff, StaffRole

    MerchantStaff.objects.create(user=theirs_owner, merchant=other_merchant, role=StaffRole.OWNER)
    page = Client()
    page.force_login(theirs_owner)
    assert page.get(f"/shop/dispatch/{crew['accepted'].pk}/").status_code == 404
    assert f'data-order="{crew["accepted"].pk}"' not in page.get("/shop/dispatch/").content.decode()
    page.post(f"/shop/dispatch/{crew['stuck'].pk}/", {"provider": crew["zhou"].pk})
    assert Booking.objects.get(pk=crew["stuck"].pk).provider_id is None
    as_clerk = Client()
    as_clerk.force_login(clerk)
    assert as_clerk.get("/shop/dispatch/").status_code == 403
