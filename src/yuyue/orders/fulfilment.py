"""The provider's steps on site: departed → arrived → in service → completed.

Each step records where the provider was. Starting and completing need the customer's
verification code 核销码 (the code on their booking), so no one can mark work done that did not
happen; after MAX_CODE_ATTEMPTS wrong codes the order is locked until an operator resets it.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from yuyue.core.codes import normalize_checkin_code
from yuyue.core.errors import DomainError

from .models import Booking
from .states import OPERATOR, PROVIDER, apply_step

MAX_CODE_ATTEMPTS = 5


def _provider_order(actor, booking_id: int) -> Booking:
    provider = getattr(actor, "provider", None) if hasattr(actor, "provider") else None
    booking = Booking.objects.filter(pk=booking_id).first()
    if booking is None or provider is None or booking.provider_id != provider.pk:
        raise DomainError("not_found")  # someone else's order looks like a missing one
    return booking


def _check_point(lat, lng) -> None:
    if lat is None or lng is None or not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise DomainError("invalid_input", "A provider step needs the current lat/lng.")


def _check_code(booking: Booking, code: str) -> None:
    """Compare the code; a wrong one is counted (and the count kept) before refusing."""
    if booking.verify_attempts >= MAX_CODE_ATTEMPTS:
        raise DomainError("verification_locked")
    if normalize_checkin_code(code or "") == booking.code:
        return
    with transaction.atomic():
        Booking.objects.filter(pk=booking.pk).update(verify_attempts=F("verify_attempts") + 1)
    attempts = Booking.objects.filter(pk=booking.pk).values_list("verify_attempts", flat=True).get()
    if attempts >= MAX_CODE_ATTEMPTS:
        raise DomainError("verification_locked")
    raise DomainError("verification_failed", left=MAX_CODE_ATTEMPTS - attempts)


def _check_window(booking: Booking, step: str) -> None:
    """A step on site is taken no earlier than its window before the order's start
    (settings.YUYUE_STEP_EARLY_MINUTES): nobody departs, arrives, starts or completes an order
    days ahead of it."""
    from django.conf import settings

    from yuyue.core.timeutil import zone

    early = settings.YUYUE_STEP_EARLY_MINUTES.get(step)
    if early is None:
        return
    opens = booking.starts_at - dt.timedelta(minutes=early)
    if timezone.now() < opens:
        tz = zone(booking.merchant.timezone)
        raise DomainError(
            "step_too_early", step=step, at=opens.astimezone(tz).strftime("%Y-%m-%d %H:%M")
        )


def _provider_step(
    actor, booking_id: int, step: str, lat, lng, code: str | None = None, **updates
) -> Booking:
    booking = _provider_order(actor, booking_id)
    _check_point(lat, lng)
    _check_window(booking, step)
    if code is not None:
        _check_code(booking, code)
    with transaction.atomic():
        return apply_step(
            booking,
            step,
            actor=actor,
            role=PROVIDER,
            lat=lat,
            lng=lng,
            extra_filter={"provider_id": booking.provider_id},
            **updates,
        )


def depart(*, actor, booking_id: int, lat: float, lng: float) -> Booking:
    return _provider_step(actor, booking_id, "depart", lat, lng)


def arrive(*, actor, booking_id: int, lat: float, lng: float) -> Booking:
    return _provider_step(actor, booking_id, "arrive", lat, lng)


def customer_absent(*, actor, booking_id: int, lat: float, lng: float) -> Booking:
    """The provider arrived, waited YUYUE_NO_SHOW_WAIT_MINUTES after the later of arriving and
    the start, and nobody is there: the order is a no-show, refunded by the service's rules."""
    from django.conf import settings
    from django.utils import timezone

    from .models import BookingEvent

    booking = _provider_order(actor, booking_id)
    arrived = (
        BookingEvent.objects.filter(booking=booking, step="arrive")
        .values_list("at", flat=True)
        .last()
    )
    if arrived is not None:
        waited_from = max(arrived, booking.starts_at)
        ready = waited_from + dt.timedelta(minutes=settings.YUYUE_NO_SHOW_WAIT_MINUTES)
        if timezone.now() < ready:
            raise DomainError("wait_longer", minutes=settings.YUYUE_NO_SHOW_WAIT_MINUTES)
    return _provider_step(actor, booking_id, "no_show", lat, lng)


def start_service(*, actor, booking_id: int, code: str, lat: float, lng: float) -> Booking:
    return _provider_step(actor, booking_id, "start", lat, lng, code=code)


MAX_PHOTOS = 6
MAX_PHOTO_BYTES = 8 * 1024 * 1024


def complete_service(
    *,
    actor,
    booking_id: int,
    code: str,
    lat: float,
    lng: float,
    photos: list[bytes] | None = None,
) -> Booking:
    """Done, confirmed by the customer's code (billing settles it after the complaint window),
    with pictures of the result if given (checked and cleaned first: a bad one refuses the step
    and nothing is stored)."""
    import uuid

    from django.core.files.base import ContentFile

    from yuyue.core.images import clean_image

    from .models import WorkPhoto

    photos = photos or []
    if len(photos) > MAX_PHOTOS:
        raise DomainError("invalid_input", f"At most {MAX_PHOTOS} photos.")
    cleaned = [clean_image(p, max_bytes=MAX_PHOTO_BYTES, max_side=1600) for p in photos]
    with transaction.atomic():
        booking = _provider_step(actor, booking_id, "complete", lat, lng, code=code)
        for jpeg in cleaned:
            photo = WorkPhoto(booking=booking)
            photo.file.save(f"{uuid.uuid4().hex}.jpg", ContentFile(jpeg), save=True)
    return booking


def unlock_verification(*, actor, booking_id: int) -> Booking:
    """An operator resets the wrong-code counter after checking with the customer."""
    if not getattr(actor, "is_operator", False):
        raise DomainError("forbidden")
    from yuyue.core.audit import audit

    with transaction.atomic():
        Booking.objects.filter(pk=booking_id).update(verify_attempts=0)
        booking = Booking.objects.get(pk=booking_id)
        audit(
            actor,
            "booking.unlock_verification",
            booking,
            role=OPERATOR,
            at=timezone.now().isoformat(),
        )
    return booking
