"""Favourites and suggestions in Chromium at phone size: a customer saves a service with the
heart (it turns without a reload), finds it on their saved page with the service they can book
again, and the home page offers that and what customers like them booked."""

from __future__ import annotations

import pytest

from tests.conftest import make_user
from tests.engagement.test_reviews import finished
from tests.web.conftest import PHONE, axe_violations, shoot
from tests.web.test_customer_pages import with_password
from yuyue.catalog.models import Service
from yuyue.engagement.models import Favourite


@pytest.mark.parametrize("language", ["zh-hans", "en"])
@pytest.mark.django_db(transaction=True)
def test_save_a_service_see_it_saved_and_what_to_book_again(
    language, customer, onsite_service, provider, live_server, chromium
):
    from django.contrib.auth.hashers import make_password

    zh = language == "zh-hans"
    customer.password = make_password("s3cret-pass")
    customer.save(update_fields=["password"])
    windows = Service.objects.create(
        merchant=onsite_service.merchant,
        name="Window cleaning",
        kind="on_site",
        duration_minutes=60,
        base_price_fen=8800,
    )
    finished(customer, onsite_service, provider)  # cleaned last time
    peer = make_user("Peer")
    finished(peer, onsite_service, provider)
    finished(peer, windows, provider)  # who booked cleaning also booked windows

    page = chromium.new_context(viewport=PHONE, locale="zh-CN" if zh else "en-US").new_page()
    with_password(page, live_server.url, customer, "/", "登录" if zh else "Sign in")
    assert onsite_service.name in page.inner_text("#book-again")
    [tip] = page.locator("#suggested li").all()
    assert windows.name in tip.inner_text() and tip.get_attribute("data-why") == "similar"
    shoot(page, f"home-{language}-suggestions")
    assert axe_violations(page) == []

    page.goto(f"{live_server.url}/services/{windows.pk}/")
    page.locator("form.save button").click()
    page.wait_for_selector("form.save button[data-saved='1']")  # swapped in place by htmx
    assert Favourite.objects.filter(user=customer, kind="service", target_id=windows.pk).exists()
    shoot(page, f"service-{language}-saved")

    page.goto(f"{live_server.url}/my/favourites/")
    assert windows.name in page.inner_text("#saved-services")
    assert onsite_service.name in page.inner_text("#book-again")
    shoot(page, f"favourites-{language}")
    assert axe_violations(page) == []
    page.locator("#saved-services form.save button").click()
    page.wait_for_selector("#saved-services button[data-saved='0']")
    assert not Favourite.objects.filter(user=customer).exists()
