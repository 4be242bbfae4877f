"""A merchant's store page as its owners and managers keep it: name, introduction, address and
place, phone, opening hours, an announcement shown at the top, a logo and up to nine photos
(each picture checked and cleaned, stored through Django's storage)."""

from __future__ import annotations

import datetime as dt
import uuid

from django.core.files.base import ContentFile
from django.db import transaction

from yuyue.accounts.auth import MANAGERS, require_staff
from yuyue.core.audit import audit
from yuyue.core.errors import DomainError
from yuyue.core.images import clean_image

from .models import Merchant, MerchantPhoto
from .services import _check_merchant

MAX_PHOTOS = 9
MAX_PICTURE_BYTES = 8 * 1024 * 1024


def clean_opening_hours(rows) -> list[dict]:
    """[{"weekday", "open", "close"}] sorted by weekday; a day at most once, open before
    close (a day left out is closed)."""
    if not isinstance(rows, list) or len(rows) > 7:
        raise DomainError("invalid_hours")
    out, seen = [], set()
    for row in rows:
        try:
            day = int(row["weekday"])
            start = dt.time.fromisoformat(row["open"])
            end = dt.time.fromisoformat(row["close"])
        except (KeyError, TypeError, ValueError) as exc:
            raise DomainError("invalid_hours") from exc
        if not 0 <= day <= 6 or day in seen or end <= start:
            raise DomainError("invalid_hours")
        seen.add(day)
        out.append({"weekday": day, "open": f"{start:%H:%M}", "close": f"{end:%H:%M}"})
    return sorted(out, key=lambda r: r["weekday"])


def update_store(
    *,
    actor,
    merchant: Merchant,
    name: str,
    introduction: str,
    announcement: str,
    phone: str,
    address: str,
    lat: float | None,
    lng: float | None,
    opening_hours: list[dict],
) -> Merchant:
    require_staff(actor, merchant.pk, MANAGERS)
    merchant.name = (name or "").strip()[:200]
    merchant.introduction = (introduction or "").strip()[:5000]
    merchant.announcement = (announcement or "").strip()[:500]
    merchant.phone = (phone or "").strip()[:32]
    merchant.address = (address or "").strip()[:300]
    merchant.lat, merchant.lng = lat, lng
    merchant.opening_hours = clean_opening_hours(opening_hours)
    if not merchant.name:
        raise DomainError("name_required")
    _check_merchant(merchant)
    with transaction.atomic():
        merchant.save()
        audit(actor, "store.update", merchant)
    return merchant


def set_logo(*, actor, merchant: Merchant, data: bytes) -> Merchant:
    require_staff(actor, merchant.pk, MANAGERS)
    jpeg = clean_image(data, max_bytes=MAX_PICTURE_BYTES, square=256)
    with transaction.atomic():
        merchant.logo.save(f"{uuid.uuid4().hex}.jpg", ContentFile(jpeg), save=True)
        audit(actor, "store.logo", merchant)
    return merchant


def _add_picture(actor, photos, data: bytes, what: str, subject, **owner):
    """A picture appended to `photos` (at most MAX_PHOTOS), cleaned and stored."""
    if photos.count() >= MAX_PHOTOS:
        raise DomainError("too_many_photos", max=MAX_PHOTOS)
    jpeg = clean_image(data, max_bytes=MAX_PICTURE_BYTES, max_side=1600)
    with transaction.atomic():
        photo = photos.model(position=photos.count(), **owner)
        photo.file.save(f"{uuid.uuid4().hex}.jpg", ContentFile(jpeg), save=True)
        audit(actor, what, subject, photo=photo.pk)
    return photo


def _remove_picture(actor, photos, photo_id: int, what: str, subject) -> None:
    photo = photos.filter(pk=photo_id).first()
    if photo is None:
        raise DomainError("not_found")
    with transaction.atomic():
        photo.file.delete(save=False)
        photo.delete()
        audit(actor, what, subject, photo=photo_id)


def add_photo(*, actor, merchant: Merchant, data: bytes) -> MerchantPhoto:
    require_staff(actor, merchant.pk, MANAGERS)
    return _add_picture(actor, merchant.photos, data, "store.photo", merchant, merchant=merchant)


def remove_photo(*, actor, merchant: Merchant, photo_id: int) -> None:
    require_staff(actor, merchant.pk, MANAGERS)
    _remove_picture(actor, merchant.photos, photo_id, "store.photo_removed", merchant)


def set_provider_bounds(
    *,
    actor,
    merchant: Merchant,
    price_min_fen: int | None,
    price_max_fen: int | None,
    hours_start: dt.time | None,
    hours_end: dt.time | None,
) -> Merchant:
    """What the merchant's providers may set themselves: their own price between two amounts,
    their working hours between two times of day (None: no bound)."""
    require_staff(actor, merchant.pk, MANAGERS)
    for fen in (price_min_fen, price_max_fen):
        if fen is not None and not 0 < fen <= 10_000_000:
            raise DomainError("invalid_amount", max=10_000_000)
    if price_min_fen is not None and price_max_fen is not None and price_max_fen < price_min_fen:
        raise DomainError("invalid_amount", max=10_000_000)
    if hours_start is not None and hours_end is not None and hours_end <= hours_start:
        raise DomainError("invalid_hours")
    merchant.provider_price_min_fen, merchant.provider_price_max_fen = price_min_fen, price_max_fen
    merchant.provider_hours_start, merchant.provider_hours_end = hours_start, hours_end
    with transaction.atomic():
        Merchant.objects.filter(pk=merchant.pk).update(
            provider_price_min_fen=price_min_fen,
            provider_price_max_fen=price_max_fen,
            provider_hours_start=hours_start,
            provider_hours_end=hours_end,
        )
        audit(actor, "store.provider_bounds", merchant)
    return merchant


def add_service_photo(*, actor, service, data: bytes):
    """A picture of one of the merchant's services (at most nine), cleaned and stored."""
    require_staff(actor, service.merchant_id, MANAGERS)
    return _add_picture(actor, service.photos, data, "service.photo", service, service=service)


def remove_service_photo(*, actor, service, photo_id: int) -> None:
    require_staff(actor, service.merchant_id, MANAGERS)
    _remove_picture(actor, service.photos, photo_id, "service.photo_removed", service)
