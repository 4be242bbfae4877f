"""The dispatch board in Chromium: the merchant's manager sees an order nobody could take in
the exceptions column and an accepted one, opens the accepted one, sees the candidates with
their distance and why the far one cannot take it, and moves the order to another provider;
another merchant's order is not found."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client

from tests.conftest import make_user
from tests.dispatch.test_round_scale import hire
from tests.dispatch.test_round_scale import open_order as dispatch_order
from tests.web.conftest import PHONE, axe_violations, same_day_start, shoot
from tests.web.test_customer_pages import with_password
from yuyue.dispatch import assigning as dispatch
from yuyue.orders.models import Booking, BookingStatus
from yuyue.scheduling.models import WorkingHours


def open_order(customer, service, hours_ahead, **extra):
    start = same_day_start(hours_ahead)
    order = dispatch_order(customer, service, start)
    if extra:
        Booking.objects.filter(pk=order.pk).update(**extra)
    return order


@pytest.fixture
def crew(merchant, onsite_service, customer, owner):
    zhou = hire(merchant, onsite_service, "Zhou", north_km=1)
    wu = hire(merchant, onsite_service, "Wu", north_km=3)
    far = hire(merchant, onsite_service, "Far Fang", north_km=30)  # beyond their 10 km
    WorkingHours.objects.update(start=dt.time(0), end=dt.time(23, 59))  # any hour of the test
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
