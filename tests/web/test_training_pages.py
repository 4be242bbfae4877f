"""Training from a phone: the manager makes a required course (a lesson, a question); the
provider cannot go on duty until they pass it, gets a wrong answer told, then passes and goes
on duty."""

from __future__ import annotations

import pytest

from tests.web.conftest import PHONE, axe_violations, shoot
from tests.web.test_customer_pages import with_password
from yuyue.accounts.models import Provider
from yuyue.catalog.models import CourseCompletion


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_required_course_before_going_on_duty(live_server, chromium, owner, provider):
    Provider.objects.filter(pk=provider.pk).update(duty="off_duty")
    shop = chromium.new_context(viewport=PHONE, locale="en-US").new_page()
    with_password(shop, live_server.url, owner, "/shop/training/", "Sign in")
    shop.fill("#c-title", "入户卫生 Hygiene at home")
    shop.locator("input[name=required]").check()
    shop.fill("#l0-title", "鞋套 Shoe covers")
    shop.fill("#l0-text", "进门先穿鞋套。 Put shoe covers on at the door.")
    shop.fill("#l0-link", "https://example.com/shoe-covers.mp4")
    shop.fill("#q0-text", "When do shoe covers go on?")
    shop.fill("#q0-choices", "When leaving\nAt the door\nNever")
    shop.fill("#q0-answer", "2")
    shop.get_by_role("button", name="Make the course").click()
    shop.wait_for_selector("#flash")
    assert "Hygiene at home" in shop.inner_text("#made") and "0 passed" in shop.inner_text("#made")
    shoot(shop, "merchant-en-training")
    assert axe_violations(shop) == []
    shop.context.close()

    page = chromium.new_context(viewport=PHONE, locale="en-US").new_page()
    with_password(page, live_server.url, provider.user, "/pro/", "Sign in")
    page.get_by_role("button", name="On duty").click()
    page.wait_for_selector("#flash")
    assert "Pass the required training first: 入户卫生 Hygiene at home" in page.inner_text("#flash")
    assert Provider.objects.get(pk=provider.pk).duty == "off_duty"
    page.goto(f"{live_server.url}/pro/training/")
    assert "Required" in page.inner_text("#courses")
    page.locator("#courses a").first.click()
    page.wait_for_selector("#quiz")
    assert "进门先穿鞋套" in page.inner_text("#lesson-1")
    page.get_by_label("Never").check()
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_selector("#flash")
    assert "0 of 1 answers right" in page.inner_text("#flash")
    shoot(page, "provider-en-course")
    assert axe_violations(page) == []
    page.get_by_label("At the door").check()
    page.get_by_role("button", name="Send my answers").click()
    page.wait_for_url(f"{live_server.url}/pro/training/")
    assert "Passed" in page.inner_text("#courses")
    assert CourseCompletion.objects.filter(provider=provider).count() == 1
    page.goto(f"{live_server.url}/pro/")
    page.get_by_role("button", name="On duty").click()
    page.wait_for_load_state()
    assert Provider.objects.get(pk=provider.pk).duty == "on_duty"
    page.context.close()
