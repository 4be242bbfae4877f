"""Staff and halls: the owner adds a clerk by phone, limited to one hall; that clerk sees and
checks in that hall's bookings only, on every page and through the API; the owner widens the
role to every hall. The rules of who may grant what hold on the page as in the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from tests.conftest import api_for, make_user
from tests.web.conftest import PHONE, axe_violations, shoot
from tests.web.test_customer_pages import with_password
from tests.web.test_merchant_pages import booked
from yuyue.accounts.models import MerchantStaff, StaffRole
from yuyue.catalog.models import Hall
from yuyue.notifications.models import Notice
from yuyue.orders.models import Booking, BookingStatus
from yuyue.scheduling.models import TimeSlot


@pytest.fixture
def two_halls(merchant, hall, hall_service, customer):
    east = Hall.objects.create(merchant=merchant, name="Hall B east")
    return {
        "a": booked(customer, hall_service, hall),
        "b": booked(customer, hall_service, east),
        "east": east,
    }


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_owner_adds_a_clerk_for_one_hall(
    language, live_server, chromium, owner, hall, two_halls, merchant
):
    english = language == "en"
    newcomer = make_user(f"Clerk Ma {language}")
    page = chromium.new_context(viewport=PHONE, locale="en-US" if english else "zh-CN").new_page()
    with_password(page, live_server.url, owner, "/shop/staff/", "Sign in" if english else "登录")
    page.fill("#s-phone", "12345")  # a typo: refused, nothing lost
    page.select_option("#s-role", "clerk")
    page.get_by_label("Hall A", exact=True).last.check()
    page.get_by_role("button", name="Add to the staff" if english else "添加员工").click()
    page.wait_for_selector("#flash")
    assert page.input_value("#s-phone") == "12345"
    assert page.locator("#invite input[name=halls]").first.is_checked()
    assert not MerchantStaff.objects.filter(user=newcomer).exists()
    page.fill("#s-phone", newcomer.phone[3:])  # as people type it, without +86
    page.get_by_role("button", name="Add to the staff" if english else "添加员工").click()
    page.wait_for_selector(f"[data-staff='{newcomer.pk}']")
    staff = MerchantStaff.objects.get(user=newcomer, merchant=merchant)
    assert staff.role == StaffRole.CLERK
    assert [h.pk for h in staff.halls.all()] == [hall.pk]
    assert Notice.objects.filter(user=newcomer, kind="staff.added").exists()
    shoot(page, f"merchant-{language}-staff")
    assert axe_violations(page) == []

    # the clerk's pages show Hall A only
    clerk_page = chromium.new_context(viewport=PHONE, locale="en-US").new_page()
    with_password(clerk_page, live_server.url, newcomer, "/shop/bookings/", "Sign in")
    listed = clerk_page.locator("#booking-list tbody tr[data-booking]")
    assert [listed.nth(i).get_attribute("data-booking") for i in range(listed.count())] == [
        str(two_halls["a"].pk)
    ]
    clerk_page.goto(f"{live_server.url}/shop/checkin/")
    clerk_page.fill("#code", two_halls["b"].code)
    clerk_page.locator("#code-form button").click()
    answer = clerk_page.wait_for_selector("#checkin-answer[data-code=wrong_hall]")
    assert "Hall B" not in answer.inner_text()
    assert Booking.objects.get(pk=two_halls["b"].pk).status == BookingStatus.BOOKED

    # every hall again: the owner unticks the halls
    card = page.locator(f"[data-staff='{newcomer.pk}']")
    card.locator("input[name=halls]:checked").uncheck()
    card.get_by_role("button", name="Save halls" if english else "保存服务厅").click()
    page.wait_for_selector("#flash")
    assert not staff.halls.exists()
    clerk_page.goto(f"{live_server.url}/shop/bookings/")
    assert clerk_page.locator("#booking-list tbody tr[data-booking]").count() == 2


@pytest.mark.django_db
def test_a_clerk_limited_to_one_hall_sees_no_other_hall_on_any_path(
    clerk, owner, hall, two_halls, merchant, hall_service
):
    staff = MerchantStaff.objects.get(user=clerk, merchant=merchant)
    staff.halls.set([hall])
    mine, theirs = two_halls["a"], two_halls["b"]
    page = Client()
    page.force_login(clerk)
    today = page.get("/shop/").content.decode()
    assert f"/shop/bookings/{mine.pk}/" in today and f"/shop/bookings/{theirs.pk}/" not in today
    assert page.get(f"/shop/bookings/{theirs.pk}/").status_code == 404
    assert page.post(f"/shop/bookings/{theirs.pk}/", {"reason": "x"}).status_code == 404
    listed = page.get("/shop/bookings/").content.decode()
    assert f'data-booking="{theirs.pk}"' not in listed and f'data-booking="{mine.pk}"' in listed

    api = api_for(clerk)
    status, rows = api.get(f"/api/merchants/{merchant.pk}/bookings")
    assert status == 200 and [r["id"] for r in rows] == [mine.pk]
    status, body = api.post(f"/api/merchants/{merchant.pk}/checkins", {"code": theirs.code})
    assert (status, body["code"]) == (403, "wrong_hall")
    status, body = api.post(
        f"/api/merchants/{merchant.pk}/bookings/{theirs.pk}/cancel", {"reason": "x"}
    )
    assert (status, body["code"]) == (403, "wrong_hall")
    assert Booking.objects.get(pk=theirs.pk).status == BookingStatus.BOOKED
    status, _ = api.post(f"/api/merchants/{merchant.pk}/checkins", {"code": mine.code})
    assert status == 200

    # a manager limited to Hall A changes Hall A's slots only, and closes no day of every hall
    staff.role = StaffRole.MANAGER
    staff.save()
    day = timezone.now().date()
    status, slots = api.get(
        f"/api/merchants/{merchant.pk}/slots?date_from={day}&date_to={day + dt.timedelta(days=2)}"
    )
    assert status == 200 and {s["hall_id"] for s in slots} == {hall.pk}
    other_slot = TimeSlot.objects.get(hall=two_halls["east"])
    status, body = api.patch(
        f"/api/merchants/{merchant.pk}/slots/{other_slot.pk}", {"capacity": 50}
    )
    assert (status, body["code"]) == (403, "wrong_hall")
    status, body = api.post(
        f"/api/merchants/{merchant.pk}/slots/close-day",
        {"service_id": hall_service.pk, "date": f"{day}"},
    )
    assert (status, body["code"]) == (403, "wrong_hall")
    assert TimeSlot.objects.get(pk=other_slot.pk).capacity == 10


@pytest.mark.django_db
def test_who_may_grant_what_holds_on_the_staff_page(owner, clerk, merchant, hall, other_merchant):
    manager = make_user("Manager Xu")
    MerchantStaff.objects.create(user=manager, merchant=merchant, role=StaffRole.MANAGER)
    stranger = make_user("Stranger")
    as_manager = Client()
    as_manager.force_login(manager)
    assert as_manager.get("/shop/staff/").status_code == 200  # managers see the staff
    as_manager.post("/shop/staff/invite/", {"phone": stranger.phone, "role": "clerk"})
    assert not MerchantStaff.objects.filter(user=stranger).exists()  # but only owners add
    as_clerk = Client()
    as_clerk.force_login(clerk)
    assert as_clerk.get("/shop/staff/").status_code == 403
    as_owner = Client()
    as_owner.force_login(owner)
    as_owner.post("/shop/staff/invite/", {"phone": stranger.phone, "role": "owner"})
    assert not MerchantStaff.objects.filter(user=stranger).exists()  # owners are made by operators
    other_hall = Hall.objects.create(merchant=other_merchant, name="Moon")
    as_owner.post(
        "/shop/staff/invite/", {"phone": stranger.phone, "role": "clerk", "halls": [other_hall.pk]}
    )
    assert not MerchantStaff.objects.filter(user=stranger).exists()  # not another's hall
    as_owner.post(f"/shop/staff/{owner.pk}/halls/", {"halls": [hall.pk]})
    assert not MerchantStaff.objects.get(user=owner).halls.exists()  # owners: every hall
    as_owner.post(f"/shop/staff/{owner.pk}/remove/")
    assert MerchantStaff.objects.filter(user=owner).exists()  # the last owner stays
    as_owner.post(f"/shop/staff/{clerk.pk}/remove/")
    assert not MerchantStaff.objects.filter(user=clerk).exists()
