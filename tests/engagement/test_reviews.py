"""Reviews: only the customer of a finished order, once, within the window; scores checked;
photos cleaned (at most nine); text through the content check (a stand-in speaking WeChat's
msg_sec_check: risky refused, review held, pass shown); ratings from published reviews only, as
a Bayesian average that ranks three hundred 4.8s above three 5s in provider search; an edit
goes back to moderation; the merchant replies once; reports once; operators hide with a
reason."""

from __future__ import annotations

import datetime as dt
import io
import json
import threading
from http.server import HTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from django.core.cache import cache
from django.utils import timezone
from PIL import Image

from tests.conftest import make_user
from tests.standins import JsonStandIn
from yuyue.accounts.models import Provider
from yuyue.catalog.models import Category
from yuyue.core.errors import DomainError
from yuyue.engagement import content, reviews
from yuyue.engagement.models import Review, ReviewPhoto, ReviewStatus
from yuyue.orders.models import Booking, BookingStatus, Channel
from yuyue.scheduling.providers import search_providers

pytestmark = pytest.mark.django_db


def finished(customer, service, provider=None, *, status=BookingStatus.COMPLETED, days_ago=1):
    end = timezone.now() - dt.timedelta(days=days_ago)
    return Booking.objects.create(
        customer=customer, merchant=service.merchant, service=service, provider=provider,
        channel=Channel.CHOSEN, status=status, starts_at=end - dt.timedelta(hours=2),
        ends_at=end, code=f"R{Booking.objects.count():09d}", address="1 Rd",
    )  # fmt: skip


def picture() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (800, 600), (90, 140, 200)).save(out, "PNG")
    return out.getvalue()


def test_only_the_customer_of_a_finished_order_reviews_it_once_within_the_window(
    customer, other_customer, onsite_service, provider, settings
):
    booked = finished(customer, onsite_service, provider, status=BookingStatus.ACCEPTED)
    with pytest.raises(DomainError) as err:
        reviews.write_review(
            actor=customer, booking_id=booked.pk, service_score=5, provider_score=5
        )
    assert err.value.code == "not_reviewable"
    done = finished(customer, onsite_service, provider)
    with pytest.raises(DomainError) as err:
        reviews.write_review(
            actor=other_customer, booking_id=done.pk, service_score=5, provider_score=5
        )
    assert err.value.code == "not_found"
    for bad in (0, 6, True, 4.5, None):
        with pytest.raises(DomainError) as err:
            reviews.write_review(
                actor=customer, booking_id=done.pk, service_score=bad, provider_score=5
            )
        assert err.value.code == "invalid_score"
    review = reviews.write_review(
        actor=customer, booking_id=done.pk, service_score=4, provider_score=5, text="准时，干净",
        photos=[picture(), picture()],
    )  # fmt: skip
    assert review.status == ReviewStatus.PUBLISHED and review.photos.count() == 2
    with pytest.raises(DomainError) as err:
        reviews.write_review(actor=customer, booking_id=done.pk, service_score=5, provider_score=5)
    assert err.value.code == "already_reviewed"
    old = finished(
        customer, onsite_service, provider, days_ago=settings.YUYUE_REVIEW_WINDOW_DAYS + 1
    )
    with pytest.raises(DomainError) as err:
        reviews.write_review(actor=customer, booking_id=old.pk, service_score=5, provider_score=5)
    assert err.value.code == "not_reviewable"
    assert Review.objects.count() == 1


def test_pictures_are_cleaned_and_at_most_nine_and_a_bad_one_stores_nothing(
    customer, onsite_service, provider
):
    done = finished(customer, onsite_service, provider)
    with pytest.raises(DomainError) as err:
        reviews.write_review(
            actor=customer, booking_id=done.pk, service_score=5, provider_score=5,
            photos=[picture()] * 10,
        )  # fmt: skip
    assert err.value.code == "too_many_photos"
    with pytest.raises(DomainError) as err:
        reviews.write_review(
            actor=customer, booking_id=done.pk, service_score=5, provider_score=5,
            photos=[picture(), b"<html>not a picture</html>"],
        )  # fmt: skip
    assert err.value.code == "invalid_image"
    assert not Review.objects.exists() and not ReviewPhoto.objects.exists()


def test_category_dimensions_are_scored_and_nothing_else(customer, onsite_service, provider):
    onsite_service.category = Category.objects.create(
        name="Cleaning", slug="cleaning",
        review_dimensions=[
            {"key": "punctuality", "label": "准时"}, {"key": "quality", "label": "质量"}
        ],
    )  # fmt: skip
    onsite_service.save()
    done = finished(customer, onsite_service, provider)
    with pytest.raises(DomainError):
        reviews.write_review(
            actor=customer, booking_id=done.pk, service_score=5, provider_score=5,
            dimensions={"price": 3},
        )  # fmt: skip
    review = reviews.write_review(
        actor=customer, booking_id=done.pk, service_score=5, provider_score=5,
        dimensions={"punctuality": 4, "quality": 5},
    )  # fmt: skip
    assert review.dimensions == {"punctuality": 4, "quality": 5}


def cleaners(merchant, service, *names: str) -> list[Provider]:
    """Verified providers of `service` in one spot, one per name."""
    made = []
    for name in names:
        p = Provider.objects.create(
            user=make_user(name), merchant=merchant, display_name=name, verified=True,
            lat=31.23, lng=121.47, service_radius_km=10,
        )  # fmt: skip
        p.services.add(service)
        made.append(p)
    return made


def test_three_fives_do_not_outrank_three_hundred_four_point_eights(
    merchant, onsite_service, customer, settings
):
    few, many = cleaners(merchant, onsite_service, "Few", "Many")
    scores = [(few, 5)] * 3 + [(many, 5)] * 240 + [(many, 4)] * 60  # 300 at 4.8 on average
    bookings = Booking.objects.bulk_create(
        Booking(
            customer=customer, merchant=merchant, service=onsite_service, provider=p,
            channel=Channel.CHOSEN, status=BookingStatus.COMPLETED,
            starts_at=timezone.now() - dt.timedelta(days=3),
            ends_at=timezone.now() - dt.timedelta(days=2),
            code=f"B{i:09d}", address="1 Rd",
        )
        for i, (p, _) in enumerate(scores)
    )  # fmt: skip
    made = Review.objects.bulk_create(
        Review(
            booking=b, customer=customer, merchant=merchant, service=onsite_service,
            provider=p, service_score=s, provider_score=s,
        )
        for b, (p, s) in zip(bookings, scores, strict=True)
    )  # fmt: skip
    reviews.refresh_ratings(made[0])
    reviews.refresh_ratings(made[-1])
    few.refresh_from_db()
    many.refresh_from_db()
    assert (few.reviews_count, many.reviews_count) == (3, 300)
    assert many.rating > few.rating
    assert float(few.rating) == pytest.approx((10 * 4.0 + 15) / 13, abs=0.005)  # 4.23
    assert float(many.rating) == pytest.approx((10 * 4.0 + 1440) / 310, abs=0.005)  # 4.77
    ids = [p["id"] for p in search_providers(service_id=onsite_service.pk, sort="rating")]
    assert ids.index(many.pk) < ids.index(few.pk)


def test_the_new_start_at_the_prior_not_five_stars(merchant, onsite_service, customer):
    """No review yet is not five stars: a new provider (and merchant) is rated the prior's mean,
    so three good reviews lift a provider above the new one, not below it."""
    new, reviewed = cleaners(merchant, onsite_service, "New", "Reviewed")
    assert float(new.rating) == 4.0 and float(merchant.rating) == 4.0
    made = [
        Review.objects.create(
            booking=finished(customer, onsite_service, reviewed), customer=customer,
            merchant=merchant, service=onsite_service, provider=reviewed,
            service_score=5, provider_score=5,
        )
        for _ in range(3)
    ]  # fmt: skip
    reviews.refresh_ratings(made[-1])
    reviewed.refresh_from_db()
    assert float(reviewed.rating) == pytest.approx((10 * 4.0 + 15) / 13, abs=0.005)  # 4.23
    ids = [p["id"] for p in search_providers(service_id=onsite_service.pk, sort="rating")]
    assert ids.index(reviewed.pk) < ids.index(new.pk)


class FakeSecCheck(JsonStandIn):
    """WeChat's access token and msg_sec_check v2: text with 'spam' is risky, text with 'maybe'
    is held for review, the rest passes; a wrong token is errcode 40001."""

    def do_GET(self):  # noqa: N802
        url = urlparse(self.path)
        q = parse_qs(url.query)
        if url.path == "/cgi-bin/token" and q.get("appid") == ["wxdemo"]:
            self.reply({"access_token": "TOKEN-1", "expires_in": 7200})
        else:
            self.reply({"errcode": 40013, "errmsg": "invalid appid"})

    def do_POST(self):  # noqa: N802
        url = urlparse(self.path)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if url.path != "/wxa/msg_sec_check" or parse_qs(url.query).get("access_token") != [
            "TOKEN-1"
        ]:
            return self.reply({"errcode": 40001, "errmsg": "invalid credential"})
        assert body["version"] == 2 and body["scene"] == 2
        text = body["content"]
        suggest = "risky" if "spam" in text else "review" if "maybe" in text else "pass"
        self.reply({"errcode": 0, "errmsg": "ok", "result": {"suggest": suggest, "label": 100}})


@pytest.fixture
def sec_check(settings):
    server = HTTPServer(("127.0.0.1", 0), FakeSecCheck)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.WECHAT_API_BASE = f"http://127.0.0.1:{server.server_port}"
    settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET = "wxdemo", "secret"
    settings.YUYUE_CONTENT_CHECKER = "yuyue.engagement.content.WechatChecker"
    content._checker.cache_clear()
    cache.clear()
    yield server
    server.shutdown()
    content._checker.cache_clear()


def test_text_passes_the_content_check_and_only_published_reviews_count(
    sec_check, customer, onsite_service, provider, operator, owner
):
    one, two, three = (finished(customer, onsite_service, provider) for _ in range(3))
    with pytest.raises(DomainError) as err:
        reviews.write_review(
            actor=customer,
            booking_id=one.pk,
            service_score=1,
            provider_score=1,
            text="buy spam now",
        )
    assert err.value.code == "content_refused" and not Review.objects.exists()
    held = reviews.write_review(
        actor=customer, booking_id=one.pk, service_score=1, provider_score=1, text="maybe rude"
    )
    assert held.status == ReviewStatus.PENDING and held.check_note.startswith("wechat review")
    provider.refresh_from_db()
    assert provider.reviews_count == 0  # held: not in the rating
    shown = reviews.write_review(
        actor=customer, booking_id=two.pk, service_score=5, provider_score=5, text="很好"
    )
    assert shown.status == ReviewStatus.PUBLISHED
    provider.refresh_from_db()
    assert provider.reviews_count == 1
    reviews.moderate_review(actor=operator, review_id=held.pk, publish=True)
    provider.refresh_from_db()
    assert provider.reviews_count == 2
    with pytest.raises(DomainError):
        reviews.moderate_review(actor=owner, review_id=held.pk, publish=False, reason="x")
    with pytest.raises(DomainError) as err:
        reviews.moderate_review(actor=operator, review_id=held.pk, publish=False)
    assert err.value.code == "reason_required"
    reviews.moderate_review(actor=operator, review_id=held.pk, publish=False, reason="insult")
    provider.refresh_from_db()
    assert provider.reviews_count == 1
    # an edit goes back to moderation, and out of the rating until published again
    reviews.edit_review(
        actor=customer, review_id=shown.pk, service_score=4, provider_score=4, text="还行"
    )
    provider.refresh_from_db()
    assert provider.reviews_count == 0
    assert Review.objects.get(pk=shown.pk).status == ReviewStatus.PENDING
    assert three.status == BookingStatus.COMPLETED


def test_the_merchant_replies_once_and_anyone_reports_once(
    customer, other_customer, onsite_service, provider, owner, clerk
):
    review = reviews.write_review(
        actor=customer, booking_id=finished(customer, onsite_service, provider).pk,
        service_score=3, provider_score=3, text="一般",
    )  # fmt: skip
    with pytest.raises(DomainError) as err:
        reviews.reply_review(actor=clerk, review_id=review.pk, text="谢谢")
    assert err.value.code == "forbidden"
    reviews.reply_review(actor=owner, review_id=review.pk, text="抱歉，我们会改进")
    with pytest.raises(DomainError) as err:
        reviews.reply_review(actor=owner, review_id=review.pk, text="again")
    assert err.value.code == "already_replied"
    reviews.report_review(actor=other_customer, review_id=review.pk, reason="fake")
    with pytest.raises(DomainError) as err:
        reviews.report_review(actor=other_customer, review_id=review.pk, reason="fake")
    assert err.value.code == "already_reported"
    assert Review.objects.get(pk=review.pk).reply == "抱歉，我们会改进"
