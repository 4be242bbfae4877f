"""The merchant's figures in Chromium: a customer books and pays today, older days come from the
summary job; the dashboard's numbers, its chart (drawn as SVG on a phone) and its Excel sheet
agree with counts taken straight from the orders in SQL; the summary job's rows equal a fresh
computation; clerks see no figures."""

from __future__ import annotations

import datetime as dt
import io
import random

import pytest
from django.db.models import Sum
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from tests.calls.conftest import top_up
from tests.web.conftest import PHONE, axe_violations, shoot
from tests.web.test_customer_pages import off_the_loop, with_password
from yuyue.billing import figures
from yuyue.billing.models import DayFigures
from yuyue.billing.payments import pay_with_wallet
from yuyue.catalog.models import Service, ServiceKind
from yuyue.core.timeutil import local_day_bounds, zone
from yuyue.orders.models import Booking, BookingStatus, Channel, PaymentStatus
from yuyue.orders.placing import book_slot
from yuyue.scheduling.models import TimeSlot


def history(merchant, service, hall, customer, today, tz, seed=7):
    """Orders of the last two weeks: a few a day, some paid, some cancelled, a no-show."""
    rng = random.Random(seed)
    for back in range(1, 15):
        day = today - dt.timedelta(days=back)
        for i in range(rng.randint(0, 4)):
            start = local_day_bounds(day, tz)[0] + dt.timedelta(hours=9 + i)
            status = rng.choice(
                [BookingStatus.CHECKED_IN] * 3 + [BookingStatus.CANCELLED, BookingStatus.NO_SHOW]
            )
            slot = TimeSlot.objects.create(
                service=service,
                hall=hall,
                starts_at=start,
                ends_at=start + dt.timedelta(hours=1),
                capacity=10,
            )
            Booking.objects.create(
                customer=customer,
                merchant=merchant,
                service=service,
                slot=slot,
                channel=Channel.HALL_SLOT,
                status=status,
                payment_status=PaymentStatus.PAID,
                price_fen=8800,
                starts_at=start,
                ends_at=start + dt.timedelta(hours=1),
                code=f"H{rng.randrange(10**9):09d}",
            )
        figures.summarise_day(merchant, day)


def sql_counts(merchant, first, last, tz):
    rows = Booking.objects.filter(
        merchant=merchant,
        starts_at__gte=local_day_bounds(first, tz)[0],
        starts_at__lt=local_day_bounds(last, tz)[1],
    ).exclude(status=BookingStatus.EXPIRED)
    paid = rows.filter(payment_status__in=figures.PAID_ONCE).aggregate(n=Sum("price_fen"))["n"]
    return rows.count(), paid or 0


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_dashboard_agrees_with_the_orders(
    language, live_server, chromium, owner, merchant, hall, customer
):
    english = language == "en"
    tz = zone(merchant.timezone)
    today = timezone.now().astimezone(tz).date()
    portrait = Service.objects.create(
        merchant=merchant,
        name="Portrait 写真",
        kind=ServiceKind.HALL_SLOT,
        duration_minutes=60,
        base_price_fen=8800,
    )
    history(merchant, portrait, hall, customer, today, tz)
    start = max(timezone.now() + dt.timedelta(minutes=30), local_day_bounds(today, tz)[0])
    if start >= local_day_bounds(today, tz)[1]:  # just before midnight: book at the day's end
        start = local_day_bounds(today, tz)[1] - dt.timedelta(minutes=20)
    slot = TimeSlot.objects.create(
        service=portrait,
        hall=hall,
        starts_at=start,
        ends_at=start + dt.timedelta(minutes=15),
        capacity=5,
    )

    def book_and_pay():
        top_up(customer, 50_000)
        booking = book_slot(actor=customer, slot_id=slot.pk, places=1, participants=None)
        return pay_with_wallet(actor=customer, booking_id=booking.pk)

    off_the_loop(book_and_pay)
    page = chromium.new_context(
        viewport=PHONE, locale="en-US" if english else "zh-CN", accept_downloads=True
    ).new_page()
    with_password(
        page, live_server.url, owner, "/shop/figures/?period=day", "Sign in" if english else "登录"
    )
    n, paid = sql_counts(merchant, today, today, tz)
    assert (n, paid) == (1, 8800)  # today's booking and its money, computed live
    assert page.inner_text("[data-figure=bookings] .value") == "1"
    assert page.inner_text("[data-figure=paid_fen] .value") == "¥88.00"

    page.goto(
        f"{live_server.url}/shop/figures/?period=week&day={today - dt.timedelta(days=3):%Y-%m-%d}"
    )
    first, last, *_ = figures.period_bounds("week", today - dt.timedelta(days=3))
    n, paid = sql_counts(merchant, first, last, tz)
    assert page.inner_text("[data-figure=bookings] .value") == str(n)
    assert page.inner_text("[data-figure=paid_fen] .value") == f"¥{paid / 100:,.2f}"
    page.wait_for_function("document.getElementById('chart').dataset.drawn !== undefined")
    assert page.get_attribute("#chart", "data-drawn") == str(n)  # the bars add up to the count
    assert page.locator("#chart svg").count() >= 1  # the SVG renderer on a phone
    row = page.locator(f"#table-service [data-row='{portrait.pk}'] td.n")
    assert row.inner_text() == str(n)
    shoot(page, f"merchant-{language}-figures")
    assert axe_violations(page) == []
    with page.expect_download() as got:
        page.locator("#table-service a[download]").click()
    sheet = load_workbook(io.BytesIO(got.value.path().read_bytes())).active
    (name, bookings, *_rest) = next(sheet.iter_rows(min_row=2, values_only=True))
    assert (name, bookings) == ("Portrait 写真", n)


@pytest.mark.django_db
def test_the_stored_days_are_what_a_fresh_computation_gives(
    merchant, hall, hall_service, customer, clerk
):
    tz = zone(merchant.timezone)
    today = timezone.now().astimezone(tz).date()
    history(merchant, hall_service, hall, customer, today, tz)
    for back in range(1, 15):
        day = today - dt.timedelta(days=back)
        stored = list(
            DayFigures.objects.filter(merchant=merchant, day=day).values(
                "service_id", "hall_id", "provider_id", *figures.COUNTS
            )
        )
        key = lambda r: (r["service_id"] or 0, r["hall_id"] or 0, r["provider_id"] or 0)  # noqa: E731
        assert sorted(stored, key=key) == sorted(figures.compute_day(merchant, day), key=key)
    assert figures.summarise_recent(days=2) >= 0  # the job runs for every active merchant
    page = Client()
    page.force_login(clerk)
    assert page.get("/shop/figures/").status_code == 403
    assert page.get("/shop/figures/export.xlsx").status_code == 403


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_platforms_figures_add_up_every_merchant(
    live_server, chromium, operator, owner, merchant, hall, other_merchant, customer
):
    """The operators' dashboard: two merchants' stored days summed by day and by merchant,
    agreeing with SQL counts of the orders; the chart's bars add up; the sheet by merchant;
    nobody but an operator sees it."""
    from yuyue.catalog.models import Hall

    tz = zone(merchant.timezone)
    today = timezone.now().astimezone(tz).date()
    shops = []
    for shop, room in ((merchant, hall), (other_merchant, None)):
        room = room or Hall.objects.create(merchant=shop, name="Moon room")
        service = Service.objects.create(
            merchant=shop, name=f"Visa {shop.slug}", kind=ServiceKind.HALL_SLOT, base_price_fen=8800
        )
        history(shop, service, room, customer, today, tz, seed=shop.pk)  # stored by the job
        shops.append(shop)
    day = today - dt.timedelta(days=3)
    first, last, *_ = figures.period_bounds("week", day)
    last = min(last, today - dt.timedelta(days=1))  # the stored days (today has none here)
    counts = [sql_counts(shop, first, last, tz) for shop in shops]
    n, paid = sum(c[0] for c in counts), sum(c[1] for c in counts)
    assert n > 0

    page = chromium.new_context(viewport=PHONE, locale="en-US", accept_downloads=True).new_page()
    with_password(page, live_server.url, operator, "/ops/", "Sign in")
    page.locator("#to-figures").click()
    page.goto(f"{live_server.url}/ops/figures/?period=week&day={day:%Y-%m-%d}")
    assert page.inner_text("[data-figure=bookings] .value") == str(n)
    assert page.inner_text("[data-figure=paid_fen] .value") == f"¥{paid / 100:,.2f}"
    page.wait_for_function("document.getElementById('chart').dataset.drawn !== undefined")
    assert page.get_attribute("#chart", "data-drawn") == str(n)
    for shop, (count, _paid) in zip(shops, counts, strict=True):
        if count:
            row = page.locator(f"#table-merchant [data-row='{shop.pk}'] td.n")
            assert row.inner_text() == str(count)
    shoot(page, "operator-en-figures")
    assert axe_violations(page) == []
    with page.expect_download() as got:
        page.locator("#table-merchant a[download]").click()
    sheet = load_workbook(io.BytesIO(got.value.path().read_bytes())).active
    assert sum(row[1] for row in sheet.iter_rows(min_row=2, values_only=True)) == n
    page.context.close()
    client = Client()
    client.force_login(owner)  # a merchant's owner is no operator
    assert client.get("/ops/figures/").status_code == 403
    assert client.get("/ops/figures/export.xlsx").status_code == 403
