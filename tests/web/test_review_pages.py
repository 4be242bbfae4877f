"""Reviews in Chromium: a customer reviews a finished order with stars, words and a photo; the
review shows on the booking, the provider's and the merchant's pages; the merchant replies on
its desk and everyone reads the reply; an operator hides a reported review with a reason."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from PIL import Image

from tests.engagement.test_reviews import finished
from tests.web.conftest import PHONE, axe_violations, loaded_width, shoot
from tests.web.test_customer_pages import with_password
from yuyue.engagement import reviews
from yuyue.engagement.models import Review, ReviewStatus


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_a_customer_reviews_with_a_photo_and_the_merchant_replies(
    language, live_server, chromium, customer, owner, merchant, onsite_service, provider, tmp_path
):
    english = language == "en"
    t = {
        "sign_in": "Sign in" if english else "登录",
        "review": "Review this order" if english else "评价订单",
        "send": "Send the review" if english else "提交评价",
        "reply": "Reply" if english else "回复",
    }
    done = finished(customer, onsite_service, provider)
    photo = tmp_path / "result.png"
    Image.new("RGB", (900, 700), (180, 210, 230)).save(photo)
    page = chromium.new_context(viewport=PHONE, locale="en-US" if english else "zh-CN").new_page()
    with_password(page, live_server.url, customer, f"/my/bookings/{done.pk}/", t["sign_in"])
    page.get_by_role("link", name=t["review"]).click()
    page.wait_for_url(re.compile(rf"/my/bookings/{done.pk}/review/$"))
    page.locator("label[for=s-4]").click()
    page.locator("label[for=p-5]").click()
    page.fill("#r-text", "来得准时，打扫得很干净")
    page.set_input_files("#r-photos", str(photo))
    shoot(page, f"customer-{language}-review-form")
    assert axe_violations(page) == []
    page.get_by_role("button", name=t["send"]).click()
    page.wait_for_selector("#review")
    review = Review.objects.get(booking=done)
    assert (review.service_score, review.provider_score, review.status) == (4, 5, "published")
    assert review.photos.count() == 1
    assert "★★★★☆" in page.inner_text("#review")
    assert loaded_width(page, "#review img") > 0
    provider.refresh_from_db()
    assert provider.reviews_count == 1 and float(provider.rating) == pytest.approx(
        (10 * 4.0 + 5) / 11, abs=0.005
    )

    desk = chromium.new_context(viewport=PHONE, locale="en-US" if english else "zh-CN").new_page()
    with_password(desk, live_server.url, owner, "/shop/reviews/", t["sign_in"])
    desk.fill(f"#reply-{review.pk}", "谢谢您的认可！")
    desk.get_by_role("button", name=t["reply"]).click()
    desk.wait_for_selector("#flash")
    shoot(desk, f"merchant-{language}-reviews")
    assert axe_violations(desk) == []
    review.refresh_from_db()
    assert review.reply == "谢谢您的认可！"

    page.goto(f"{live_server.url}/providers/{provider.pk}/")
    assert "谢谢您的认可！" in page.inner_text("#reviews")
    assert "来得准时" in page.inner_text("#reviews")
    shoot(page, f"customer-{language}-provider-reviews")
    assert axe_violations(page) == []
    page.goto(f"{live_server.url}/merchants/{merchant.slug}/")
    assert "来得准时" in page.inner_text("#reviews")


@pytest.mark.django_db
def test_an_operator_hides_a_reported_review_and_it_leaves_the_pages(
    customer, other_customer, onsite_service, provider, operator, merchant
):
    review = reviews.write_review(
        actor=customer, booking_id=finished(customer, onsite_service, provider).pk,
        service_score=1, provider_score=1, text="骗子 call 13812345678",
    )  # fmt: skip
    reviews.report_review(actor=other_customer, review_id=review.pk, reason="a phone number")
    ops = Client()
    ops.force_login(operator)
    assert f'data-review="{review.pk}"' in ops.get("/ops/reviews/").content.decode()
    ops.post(f"/ops/reviews/{review.pk}/", {"decision": "hide", "reason": "shows a phone number"})
    review.refresh_from_db()
    assert (review.status, review.hidden_reason) == (ReviewStatus.HIDDEN, "shows a phone number")
    provider.refresh_from_db()
    assert provider.reviews_count == 0
    public = Client().get(f"/merchants/{merchant.slug}/").content.decode()
    assert "13812345678" not in public
    photo_less = Client().get(f"/providers/{provider.pk}/").content.decode()
    assert "骗子" not in photo_less
    writer = Client()
    writer.force_login(customer)
    assert (
        "shows a phone number" in writer.get(f"/my/bookings/{review.booking_id}/").content.decode()
    )
