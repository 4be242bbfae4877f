"""The first page a visitor sees, in a real browser (Debian's chromium through Playwright)."""

from __future__ import annotations

import pytest
from playwright.sync_api import sync_playwright

from yuyue.catalog.models import Merchant, MerchantStatus, Service

ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


@pytest.fixture
def shop(db):
    m = Merchant.objects.create(
        name="洁家到家 CleanHome",
        slug="cleanhome",
        status=MerchantStatus.ACTIVE,
        address="南京西路1266号",
    )
    Service.objects.create(
        merchant=m,
        name="日常保洁 Home cleaning",
        kind="on_site",
        duration_minutes=120,
        base_price_fen=12050,
    )
    Service.objects.create(merchant=m, name="Retired service", kind="on_site", active=False)
    hidden = Merchant.objects.create(name="Pending Salon", slug="pending")
    Service.objects.create(merchant=hidden, name="Haircut", kind="hall_slot")
    return m


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_home_lists_merchants_services_and_prices(live_server, shop):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page(viewport={"width": 390, "height": 844})  # a phone
        page.goto(live_server.url + "/")
        section = page.locator("[data-merchant=cleanhome]")
        assert section.locator("h2").inner_text() == "洁家到家 CleanHome"
        services = section.locator("li.service")
        assert services.count() == 1
        text = services.first.inner_text()
        assert "日常保洁 Home cleaning" in text and "¥120.50" in text and "120 min" in text
        assert page.locator("[data-merchant=pending]").count() == 0
        page.click("text=API docs")
        page.wait_for_load_state("networkidle")
        assert "/api/docs" in page.url
        assert page.locator("text=yuyue API").first.is_visible()
        browser.close()
