"""A merchant's manager announces to the store's customers from a phone, in Chinese: the
announcement shows on the store page at once, and is gone when withdrawn."""

from __future__ import annotations

import pytest

from tests.web.conftest import PHONE, axe_violations, shoot
from tests.web.test_customer_pages import with_password


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_manager_announces_to_the_stores_customers(live_server, chromium, owner, merchant):
    page = chromium.new_context(viewport=PHONE, locale="zh-CN").new_page()
    with_password(page, live_server.url, owner, "/shop/announcements/", "登录")
    page.select_option("#an-audience", "customers")
    page.fill("#an-title", "周一闭馆")
    page.fill("#an-body", "大厅粉刷，周二照常营业。")
    page.fill("#an-days", "3")
    page.get_by_role("button", name="发布公告").click()
    page.wait_for_selector("#flash")
    assert "周一闭馆" in page.inner_text("#made")
    assert "展示中" in page.inner_text("#made")
    shoot(page, "merchant-zh-hans-announcements")
    assert axe_violations(page) == []

    page.goto(f"{live_server.url}/merchants/{merchant.slug}/")
    said = page.inner_text("#announcements")
    assert "周一闭馆" in said and "大厅粉刷" in said and merchant.name in said
    shoot(page, "customer-zh-hans-store-announcement")
    assert axe_violations(page) == []

    page.goto(f"{live_server.url}/shop/announcements/")
    page.get_by_role("button", name="撤回").click()
    page.wait_for_selector("#flash")
    assert "已撤回" in page.inner_text("#made")
    page.goto(f"{live_server.url}/merchants/{merchant.slug}/")
    assert page.locator("#announcements").count() == 0
    page.context.close()
