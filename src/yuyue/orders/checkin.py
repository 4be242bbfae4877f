"""Check-in 核销 at the counter: a booking's code redeemed once, at its merchant, on its day."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from yuyue.accounts.auth import ANY_STAFF, require_staff
from yuyue.core.codes import normalize_checkin_code
from yuyue.core.controls import race_control
from yuyue.core.errors import DomainError
from yuyue.core.timeutil import zone

from .models import Booking, BookingStatus
from .placing import fmt_local
from .queries import hall_of
from .states import apply_step


def _refuse_check_in(booking: Booking) -> None:
    if booking.is_cancelled or booking.status == BookingStatus.EXPIRED:
        raise DomainError("booking_cancelled")
    if booking.status == BookingStatus.CHECKED_IN:
        raise DomainError(
            "already_checked_in", at=fmt_local(booking.checked_in_at, booking.merchant.timezone)
        )
    if booking.status != BookingStatus.BOOKED:
        raise DomainError("illegal_transition", step="check_in", state=booking.status)


def check_in(*, actor, merchant_id: int, code: str) -> Booking:
    """Redeem a booking's code at its merchant, once, on the booking's local day."""
    require_staff(actor, merchant_id, ANY_STAFF)
    code = normalize_checkin_code(code or "")
    booking = (
        Booking.objects.select_related("merchant", "slot").filter(code=code).first()
        if code
        else None
    )
    if booking is None:
        raise DomainError("code_unknown")
    if booking.merchant_id != merchant_id:
        raise DomainError("wrong_merchant")
    require_staff(actor, merchant_id, ANY_STAFF, **hall_of(booking))
    _refuse_check_in(booking)
    tz = zone(booking.merchant.timezone)
    day = booking.starts_at.astimezone(tz).date()
    if day != timezone.now().astimezone(tz).date():
        raise DomainError("not_today", date=day.isoformat())
    now = timezone.now()
    if naive := race_control("check_in"):
        return naive(booking=booking, actor=actor, now=now)
    try:
        with transaction.atomic():
            booking = apply_step(
                booking, "check_in", actor=actor, checked_in_at=now, checked_in_by=actor
            )
    except DomainError as exc:
        if exc.code != "illegal_transition":
            raise
        booking.refresh_from_db()
        _refuse_check_in(booking)
        raise
    return booking
