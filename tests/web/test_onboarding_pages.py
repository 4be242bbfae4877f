"""Becoming a provider in Chromium at phone size: a person applies with documents, an operator
rejects with a reason, the applicant sees it and sends the application again, the operator
approves, and the new provider's pages open. Documents are shown only to the applicant and to
reviewers."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from PIL import Image

from tests.conftest import make_user
from tests.web.conftest import PHONE, axe_violations, loaded_width, shoot
from tests.web.test_customer_pages import with_password
from yuyue.accounts.models import ApplicationDocument, Provider, ProviderApplication
from yuyue.catalog.models import Merchant, MerchantStatus, Service

GOOD_ID = "11010519491231002X"
HOME = (31.2304, 121.4737)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_apply_rejected_resubmit_approved(live_server, chromium, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    merchant = Merchant.objects.create(
        name="洁家 Clean", slug="clean", status=MerchantStatus.ACTIVE
    )
    cleaning = Service.objects.create(
        merchant=merchant, name="Home cleaning", kind="on_site", base_price_fen=10000
    )
    photo = tmp_path / "me.jpg"
    Image.new("RGB", (600, 800), (200, 180, 160)).save(photo)
    card = tmp_path / "id.png"
    Image.new("RGB", (856, 540), (230, 230, 240)).save(card)
    applicant = make_user("New cleaner", password="s3cret-pass")
    operator = make_user("Operator", password="s3cret-pass", is_operator=True)

    context = chromium.new_context(
        viewport=PHONE,
        locale="en-US",
        geolocation={"latitude": HOME[0], "longitude": HOME[1]},
        permissions=["geolocation"],
    )
    page = context.new_page()
    with_password(page, live_server.url, applicant, "/pro/", "Sign in")
    page.locator("#apply-link").click()
    page.wait_for_url(re.compile(r"/pro/apply/$"))
    page.fill("#real_name", "王芳")
    page.fill("#id_number", GOOD_ID)
    page.check(f"input[name=service][value='{cleaning.pk}']")
    page.select_option("#merchant", str(merchant.pk))
    page.fill("#radius_km", "8")
    page.get_by_role("button", name="I work from where I am now").click()
    page.wait_for_selector("#where-ok:not([hidden])")
    page.set_input_files("#doc-photo", str(photo))
    page.set_input_files("#doc-id_front", str(card))
    shoot(page, "provider-en-apply")
    assert axe_violations(page) == []
    page.get_by_role("button", name="Send my application").click()
    page.wait_for_selector("#application-state")
    assert "waiting for a review" in page.inner_text("#application-state")
    assert GOOD_ID not in page.content()  # masked
    application = ProviderApplication.objects.get(user=applicant)
    assert application.merchant_id == merchant.pk and application.documents.count() == 2

    review = context.browser.new_context(viewport=PHONE, locale="en-US").new_page()
    with_password(review, live_server.url, operator, "/pro/review/", "Sign in")
    review.locator("#applications a", has_text="王芳").click()
    review.wait_for_url(re.compile(rf"/pro/review/{application.pk}/$"))
    assert review.locator("#documents img").count() == 2
    assert loaded_width(review, "#documents img") > 0
    shoot(review, "provider-en-review")
    assert axe_violations(review) == []
    review.fill("#reason", "ID card photo is blurred")
    review.get_by_role("button", name="Reject").click()
    review.wait_for_url(re.compile(r"/pro/review/$"))

    page.reload()
    assert page.inner_text("#reason") == "ID card photo is blurred"
    page.fill("#id_number", GOOD_ID)
    page.get_by_role("button", name="I work from where I am now").click()
    page.wait_for_selector("#where-ok:not([hidden])")
    page.set_input_files("#doc-photo", str(photo))
    page.set_input_files("#doc-id_front", str(card))
    page.get_by_role("button", name="Send it again").click()
    page.wait_for_selector("#application-state")
    assert "waiting for a review" in page.inner_text("#application-state")

    review.goto(f"{live_server.url}/pro/review/{application.pk}/")
    review.get_by_role("button", name="Approve").click()
    review.wait_for_url(re.compile(r"/pro/review/$"))
    provider = Provider.objects.get(user=applicant)
    assert provider.verified and provider.merchant_id == merchant.pk
    page.reload()
    page.get_by_role("link", name="Start working").click()
    page.wait_for_url(re.compile(r"/pro/$"))
    assert page.locator("#duty").count() == 1
    context.close()

    # the documents: the applicant and reviewers see them, nobody else
    doc = ApplicationDocument.objects.filter(application=application).first()
    stranger = Client()
    stranger.force_login(make_user("Curious"))
    assert stranger.get(f"/pro/documents/{doc.pk}/").status_code == 404
    assert stranger.get(f"/pro/review/{application.pk}/").status_code == 404
    owner = Client()
    owner.force_login(applicant)
    assert owner.get(f"/pro/documents/{doc.pk}/").status_code == 200
