"""An at-home service priced by its options and its hour, in Chromium at phone size: the area
typed, every time of the day at its own price (peak hours dearer), the chosen time's quote line
by line, and the order at exactly that quote."""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests.calls.conftest import top_up
from tests.conftest import make_user
from tests.web.conftest import PHONE, axe_violations, shoot
from tests.web.test_customer_pages import with_password
from yuyue.accounts.models import Provider
from yuyue.catalog.models import Merchant, MerchantStatus, Service
from yuyue.orders.models import Booking
from yuyue.pricing.holidays import day_kind
from yuyue.scheduling.models import WorkingHours

SH = ZoneInfo("Asia/Shanghai")
HOME = (31.2304, 121.4737)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_options_peak_hours_and_the_quote_are_what_is_charged(live_server, chromium):
    merchant = Merchant.objects.create(
        name="亮洁 Bright", slug="bright", status=MerchantStatus.ACTIVE, lat=31.30, lng=121.4737
    )
    deep = Service.objects.create(
        merchant=merchant,
        name="Deep cleaning",
        kind="on_site",
        duration_minutes=120,
        step_minutes=60,
        base_price_fen=10000,
        pricing={
            "per_m2_fen": 200,
            "peak": [{"start": "18:00", "end": "21:00", "percent": 20}],
            "weekend_percent": 10,
        },
    )
    cleaner = Provider.objects.create(
        user=make_user("Cleaner Fang"),
        merchant=merchant,
        display_name="Fang",
        verified=True,
        lat=HOME[0],
        lng=HOME[1],
        service_radius_km=10,
    )
    cleaner.services.add(deep)
    for d in range(7):
        WorkingHours.objects.create(provider=cleaner, weekday=d, start=dt.time(8), end=dt.time(21))
    customer = make_user("Flat owner", password="s3cret-pass")
    top_up(customer, 100_000)
    tomorrow = timezone.now().astimezone(SH).date() + dt.timedelta(days=1)
    weekend = day_kind(tomorrow)[0] == "weekend"
    context = chromium.new_context(
        viewport=PHONE,
        locale="en-US",
        geolocation={"latitude": HOME[0], "longitude": HOME[1]},
        permissions=["geolocation"],
    )
    page = context.new_page()
    with_password(page, live_server.url, customer, f"/services/{deep.pk}/", "Sign in")
    page.get_by_role("button", name="Use my location").click()
    page.wait_for_url(re.compile(r"lat=31\.2304"))
    page.locator(f"nav.days a[href*='day={tomorrow:%Y-%m-%d}']").click()
    page.wait_for_url(re.compile(f"day={tomorrow:%Y-%m-%d}"))
    page.fill("#area_m2", "80")
    page.locator("#area_m2").dispatch_event("change")
    subtotal = 10000 + 80 * 200
    plain = subtotal + (subtotal * 10 // 100 if weekend else 0)
    peak = plain + subtotal * 20 // 100
    page.wait_for_function(
        f"document.getElementById('times').textContent.includes('¥{plain / 100:,.2f}')"
    )
    times = page.inner_text("#times")
    assert f"10:00\n¥{plain / 100:,.2f}" in times
    assert f"18:00\n¥{peak / 100:,.2f}" in times  # peak hours cost more, shown before choosing
    page.locator("#times label", has_text="18:00").click()
    page.wait_for_selector("#quote")
    lines = page.inner_text("#quote")
    assert "Service\n¥100.00" in lines and "Area\n¥160.00" in lines
    assert f"Peak hours\n¥{subtotal * 20 // 100 / 100:,.2f}" in lines
    assert ("Weekend" in lines) == weekend
    assert page.inner_text("#quote-total") == f"¥{peak / 100:,.2f}"
    page.fill("#address", "武康路 100 号")
    shoot(page, "customer-en-onsite-quote")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Order").click()
    page.wait_for_url(re.compile(r"/my/bookings/\d+/pay/"))
    booking = Booking.objects.get(customer=customer)
    assert booking.price_fen == peak  # the quote's, to the fen
    assert booking.options["area_m2"] == 80
    assert page.inner_text("#due") == f"¥{peak / 100:,.2f}"
    # an area out of bounds: said next to the field, the times still there at their plain price
    page.goto(
        f"{live_server.url}/services/{deep.pk}/?lat={HOME[0]}&lng={HOME[1]}&area_m2=0"
        f"&day={tomorrow:%Y-%m-%d}"
    )
    assert page.locator("#area_m2[aria-invalid=true]").count() == 1
    assert page.locator("#times input[name=start]").count() > 0
    # and on a day when no time is free (today, late): still said next to the field
    Provider.objects.filter(pk=cleaner.pk).update(active=False)
    page.goto(f"{live_server.url}/services/{deep.pk}/?lat={HOME[0]}&lng={HOME[1]}&area_m2=0")
    assert page.locator("#times input[name=start]").count() == 0
    assert page.locator("#area_m2[aria-invalid=true]").count() == 1
    context.close()
