"""Reviews: written by the customer of a finished order (completed, a call ended, or a hall
booking checked in), once, within YUYUE_REVIEW_WINDOW_DAYS of its end; scores for the service,
for the provider and for each dimension of the service's category; text passed through the
content check; up to nine photos; anonymous if chosen. An edit sends it back to moderation.
The merchant replies once; anyone signed in reports once; operators publish or hide with a
reason.

Ratings are Bayesian averages over published reviews only,
    (C x m + sum of scores) / (C + n),
as if everyone started with C = YUYUE_RATING_PRIOR_WEIGHT reviews at m = YUYUE_RATING_PRIOR_MEAN
stars. The prior is a fixed, modest 4.0, not the platform's average: where most reviews are 4.8
or better, a prior at the average would still rank three 5s (4.85) above three hundred 4.8s
(4.80); at 4.0 the three 5s make 4.23 and the three hundred 4.8s 4.77. They are written to
`Provider.rating` (which provider search sorts by and dispatch weighs) and `Merchant.rating`,
with the counts, in the same transaction as the change that moves them; before the first
published review both hold the formula at n = 0, the prior's mean
(`accounts.models.prior_rating`)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone

from yuyue.accounts.auth import MANAGERS, require_operator, require_staff
from yuyue.accounts.models import Provider
from yuyue.catalog.models import Merchant
from yuyue.core.audit import audit
from yuyue.core.errors import DomainError
from yuyue.core.images import clean_image
from yuyue.orders.models import Booking, BookingStatus

from .content import get_checker
from .models import Review, ReviewPhoto, ReviewReport, ReviewStatus

MAX_PHOTOS = 9
MAX_PHOTO_BYTES = 8 * 1024 * 1024
MAX_TEXT = 1000
FINISHED = (BookingStatus.COMPLETED, BookingStatus.CHECKED_IN)


def _score(value, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        raise DomainError("invalid_score", field=name)
    return value


def dimensions_of(booking: Booking) -> list[dict]:
    """The dimensions customers score for this order: its service's category's (at most 5)."""
    category = booking.service.category
    return list((category.review_dimensions or [])[:5]) if category else []


def reviewable(booking: Booking, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    window = dt.timedelta(days=settings.YUYUE_REVIEW_WINDOW_DAYS)
    return booking.status in FINISHED and now <= booking.ends_at + window


def _checked(actor, text: str) -> tuple[str, str]:
    """(status, note) of a text: published when it passes, pending when the checker holds it
    for review; refused when it is risky."""
    if not text:
        return ReviewStatus.PUBLISHED, ""
    verdict = get_checker().check(text, openid=getattr(actor, "wx_openid", None) or "")
    if verdict.suggest == "risky":
        raise DomainError("content_refused")
    status = ReviewStatus.PUBLISHED if verdict.suggest == "pass" else ReviewStatus.PENDING
    return status, verdict.note[:100]


def _clean(booking: Booking, service_score, provider_score, dimensions, text, photos):
    service_score = _score(service_score, "service")
    has_provider = booking.provider_id is not None
    provider_score = _score(provider_score, "provider") if has_provider else None
    keys = {d["key"] for d in dimensions_of(booking)}
    dimensions = dimensions or {}
    if not isinstance(dimensions, dict) or set(dimensions) - keys:
        raise DomainError("invalid_score", field="dimensions")
    dimensions = {k: _score(v, k) for k, v in dimensions.items()}
    text = (text or "").strip()
    if len(text) > MAX_TEXT:
        raise DomainError("invalid_input", f"At most {MAX_TEXT} characters.")
    photos = photos or []
    if len(photos) > MAX_PHOTOS:
        raise DomainError("too_many_photos", max=MAX_PHOTOS)
    cleaned = [clean_image(data, max_bytes=MAX_PHOTO_BYTES, max_side=1600) for data in photos]
    return service_score, provider_score, dimensions, text, cleaned


def write_review(
    *,
    actor,
    booking_id: int,
    service_score: int,
    provider_score: int | None = None,
    dimensions: dict | None = None,
    text: str = "",
    anonymous: bool = False,
    photos: list[bytes] | None = None,
) -> Review:
    booking = Booking.objects.select_related("service__category").filter(pk=booking_id).first()
    if booking is None or booking.customer_id != getattr(actor, "pk", None):
        raise DomainError("not_found")
    if not reviewable(booking):
        raise DomainError("not_reviewable", days=settings.YUYUE_REVIEW_WINDOW_DAYS)
    service_score, provider_score, dimensions, text, cleaned = _clean(
        booking, service_score, provider_score, dimensions, text, photos
    )
    status, note = _checked(actor, text)  # before the transaction: an HTTP call
    try:
        with transaction.atomic():
            review = Review.objects.create(
                booking=booking,
                customer_id=booking.customer_id,
                merchant_id=booking.merchant_id,
                service_id=booking.service_id,
                provider_id=booking.provider_id,
                service_score=service_score,
                provider_score=provider_score,
                dimensions=dimensions,
                text=text,
                anonymous=bool(anonymous),
                status=status,
                check_note=note,
            )
            _store_photos(review, cleaned)
            refresh_ratings(review)
            audit(actor, "review.write", review, status=status)
    except IntegrityError as exc:
        raise DomainError("already_reviewed") from exc
    return review


def _store_photos(review: Review, cleaned: list[bytes]) -> None:
    for i, jpeg in enumerate(cleaned):
        photo = ReviewPhoto(review=review, position=i)
        photo.file.save(f"{uuid.uuid4().hex}.jpg", ContentFile(jpeg), save=True)


def edit_review(
    *,
    actor,
    review_id: int,
    service_score: int,
    provider_score: int | None = None,
    dimensions: dict | None = None,
    text: str = "",
    anonymous: bool = False,
) -> Review:
    """The customer changes their review (within the window); it goes back to moderation, and
    out of the ratings until an operator publishes it again."""
    review = (
        Review.objects.select_related("booking__service__category").filter(pk=review_id).first()
    )
    if review is None or review.customer_id != getattr(actor, "pk", None):
        raise DomainError("not_found")
    if not reviewable(review.booking):
        raise DomainError("not_reviewable", days=settings.YUYUE_REVIEW_WINDOW_DAYS)
    service_score, provider_score, dimensions, text, _ = _clean(
        review.booking, service_score, provider_score, dimensions, text, []
    )
    _checked(actor, text)  # a risky text is refused outright
    with transaction.atomic():
        Review.objects.filter(pk=review.pk).update(
            service_score=service_score,
            provider_score=provider_score,
            dimensions=dimensions,
            text=text,
            anonymous=bool(anonymous),
            status=ReviewStatus.PENDING,
            edited_at=timezone.now(),
        )
        review.refresh_from_db()
        refresh_ratings(review)
        audit(actor, "review.edit", review)
    return review


def reply_review(*, actor, review_id: int, text: str) -> Review:
    """The merchant's one reply (its owners and managers)."""
    review = Review.objects.filter(pk=review_id).first()
    if review is None:
        raise DomainError("not_found")
    require_staff(actor, review.merchant_id, MANAGERS)
    text = (text or "").strip()
    if not 1 <= len(text) <= MAX_TEXT:
        raise DomainError("reason_required")
    with transaction.atomic():
        if not Review.objects.filter(pk=review.pk, replied_at__isnull=True).update(
            reply=text, replied_at=timezone.now(), replied_by=actor
        ):
            raise DomainError("already_replied")
        audit(actor, "review.reply", review)
    review.refresh_from_db()
    return review


def report_review(*, actor, review_id: int, reason: str) -> ReviewReport:
    if not getattr(actor, "pk", None):
        raise DomainError("auth_required")
    review = Review.objects.filter(pk=review_id).exclude(status=ReviewStatus.HIDDEN).first()
    if review is None:
        raise DomainError("not_found")
    reason = (reason or "").strip()[:300]
    if not reason:
        raise DomainError("reason_required")
    try:
        with transaction.atomic():
            report = ReviewReport.objects.create(review=review, reporter=actor, reason=reason)
            audit(actor, "review.report", review)
    except IntegrityError as exc:
        raise DomainError("already_reported") from exc
    return report


def moderate_review(*, actor, review_id: int, publish: bool, reason: str = "") -> Review:
    """An operator publishes a review (it counts in the ratings) or hides it with a reason."""
    require_operator(actor)
    review = Review.objects.filter(pk=review_id).first()
    if review is None:
        raise DomainError("not_found")
    reason = (reason or "").strip()[:300]
    if not publish and not reason:
        raise DomainError("reason_required")
    with transaction.atomic():
        Review.objects.filter(pk=review.pk).update(
            status=ReviewStatus.PUBLISHED if publish else ReviewStatus.HIDDEN,
            hidden_reason="" if publish else reason,
        )
        review.refresh_from_db()
        refresh_ratings(review)
        audit(actor, "review.publish" if publish else "review.hide", review, reason=reason)
    return review


def bayesian(count: int, total: int, prior_mean: float, weight: int) -> Decimal:
    """(weight x prior_mean + total) / (weight + count), to two places."""
    value = (Decimal(weight) * Decimal(str(prior_mean)) + Decimal(total)) / Decimal(weight + count)
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def refresh_ratings(review: Review) -> None:
    """The provider's and the merchant's ratings and counts from their published reviews."""
    weight, prior = settings.YUYUE_RATING_PRIOR_WEIGHT, settings.YUYUE_RATING_PRIOR_MEAN
    published = Review.objects.filter(status=ReviewStatus.PUBLISHED)
    if review.provider_id is not None:
        got = published.filter(provider_id=review.provider_id, provider_score__isnull=False)
        got = got.aggregate(n=Count("id"), s=Sum("provider_score"))
        Provider.objects.filter(pk=review.provider_id).update(
            rating=bayesian(got["n"], got["s"] or 0, prior, weight),
            reviews_count=got["n"],
        )
    got = published.filter(merchant_id=review.merchant_id).aggregate(
        n=Count("id"), s=Sum("service_score")
    )
    Merchant.objects.filter(pk=review.merchant_id).update(
        rating=bayesian(got["n"], got["s"] or 0, prior, weight),
        reviews_count=got["n"],
    )


def published_reviews(*, provider_id: int | None = None, merchant_id: int | None = None, limit=20):
    qs = (
        Review.objects.filter(status=ReviewStatus.PUBLISHED)
        .select_related("customer", "service")
        .prefetch_related("photos")
    )
    if provider_id is not None:
        qs = qs.filter(provider_id=provider_id)
    if merchant_id is not None:
        qs = qs.filter(merchant_id=merchant_id)
    return list(qs.order_by("-created_at")[:limit])
