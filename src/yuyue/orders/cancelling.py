"""Cancelling an order: by its customer within the service's cancel policy, or by staff with a
reason. Slot rows before usage rows, as everywhere (yuyue.orders.locks)."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from yuyue.accounts.auth import ANY_STAFF, require_staff
from yuyue.catalog.models import CancelPolicy
from yuyue.core.errors import DomainError
from yuyue.scheduling.models import ProviderReservation

from .locks import give_back_place
from .models import Booking, BookingStatus
from .queries import hall_of
from .states import apply_step


def release_holdings(booking: Booking, *, counter: str | None) -> None:
    """Give back what the order held: its places in a slot, its provider's time."""
    if booking.slot_id:  # in the one lock order (yuyue.orders.locks)
        give_back_place(booking, counter=counter)
    if booking.reservation_id:
        ProviderReservation.objects.filter(pk=booking.reservation_id).update(active=False)


def cancel_order(booking: Booking, *, actor, step: str, reason: str) -> Booking:
    """Cancel by `step` ("cancel": the customer; "staff_cancel": staff or an operator): the order
    gives back what it held; the parts above hear of it (`events.step_taken`: a coupon claim
    released, a paid order refunded, a timed call closed with its fee)."""
    now = timezone.now()
    counter = "cancelled" if step == "cancel" else "cancelled_by_staff"
    try:
        with transaction.atomic():
            updated = apply_step(
                booking,
                step,
                actor=actor,
                note=reason,
                cancelled_at=now,
                cancelled_by=actor,
                cancel_reason=reason[:300],
            )
            Booking.objects.filter(pk=booking.pk).update(cancelled_role=updated.events.last().role)
            release_holdings(booking, counter=counter)
    except DomainError as exc:
        if exc.code != "illegal_transition":
            raise
        current = Booking.objects.get(pk=booking.pk)
        if current.is_cancelled or current.status == BookingStatus.EXPIRED:
            raise DomainError("already_cancelled") from exc
        if current.status == BookingStatus.CHECKED_IN:
            raise DomainError("cancel_checked_in") from exc
        raise DomainError("cancel_after_start") from exc
    booking.refresh_from_db()
    return booking


def cancel_booking(*, actor, booking_id: int, reason: str = "") -> Booking:
    """The customer cancels their own booking, as the service's cancel policy allows."""
    booking = (
        Booking.objects.select_related("service")
        .filter(pk=booking_id, customer_id=getattr(actor, "pk", None))
        .first()
    )
    if booking is None:
        raise DomainError("not_found")
    if booking.is_cancelled:
        raise DomainError("already_cancelled")
    if booking.status == BookingStatus.CHECKED_IN:
        raise DomainError("cancel_checked_in")
    policy = booking.service.cancel_policy
    unpaid = booking.status == BookingStatus.AWAITING_PAYMENT
    if policy == CancelPolicy.NEVER and not unpaid:
        raise DomainError("cancel_never")
    if policy == CancelPolicy.BEFORE_START and timezone.now() >= booking.starts_at and not unpaid:
        raise DomainError("cancel_after_start")
    return cancel_order(booking, actor=actor, step="cancel", reason=reason)


def cancel_booking_by_staff(*, actor, booking: Booking | int, reason: str) -> Booking:
    """Merchant staff (or an operator) cancel a booking, always with a reason."""
    if not isinstance(booking, Booking):
        booking = Booking.objects.select_related("slot").filter(pk=booking).first()
        if booking is None:
            raise DomainError("not_found")
    require_staff(actor, booking.merchant_id, ANY_STAFF, **hall_of(booking))
    if not reason or not reason.strip():
        raise DomainError("reason_required")
    return cancel_order(booking, actor=actor, step="staff_cancel", reason=reason.strip())


# --- check-in 核销 ----------------------------------------------------------------------------
