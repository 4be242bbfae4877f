"""An order's payment: confirmed (it moves on), expired at its deadline (it gives back what it
held), or arrived after it expired (it lives again if what it held is still free). The gateways
of billing call these; what the money does is billing's."""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.utils import timezone

from yuyue.core.errors import DomainError
from yuyue.scheduling.models import ProviderReservation

from .cancelling import release_holdings
from .locks import take_place_again
from .models import Booking, BookingStatus, Channel, PaymentStatus
from .placing import reserve_provider_time
from .states import SYSTEM, apply_step

AFTER_PAYMENT = {
    Channel.HALL_SLOT: "pay_for_slot",
    Channel.DISPATCH: "pay_for_dispatch",
    Channel.CHOSEN: "pay_for_provider",
    Channel.TASK_HALL: "pay_for_provider",
    Channel.CALL: "pay_for_provider",
}


def confirm_payment(*, booking_id: int, reference: str = "") -> Booking:
    """The order is paid: it moves on (booked, to dispatch, or accepted by its provider)."""
    booking = Booking.objects.filter(pk=booking_id).first()
    if booking is None:
        raise DomainError("not_found")
    with transaction.atomic():
        booking = apply_step(
            booking,
            AFTER_PAYMENT[booking.channel],
            actor=None,
            role=SYSTEM,
            note=reference[:300],
            payment_status=PaymentStatus.PAID,
        )
    return booking


def expire_unpaid(*, booking_id: int) -> bool:
    """Expire an order still unpaid after its deadline, giving back its place or time."""
    booking = Booking.objects.filter(pk=booking_id).first()
    if booking is None or booking.status != BookingStatus.AWAITING_PAYMENT:
        return False
    if booking.pay_before and booking.pay_before > timezone.now():
        return False
    try:
        with transaction.atomic():
            apply_step(booking, "expire", actor=None, role=SYSTEM)
            release_holdings(booking, counter=None)
    except DomainError:
        return False  # paid or cancelled meanwhile
    return True


def expire_due_unpaid(*, now: dt.datetime | None = None, limit: int = 200) -> int:
    """The expiry sweep: every order still unpaid at its deadline (`pay_before`) expires and gives
    back its place or time. Orders are taken in deadline order, `limit` at a time, each batch
    locked (another worker's sweep skips them, so none is expired twice). Returns how many."""
    now = now or timezone.now()
    expired = 0
    while True:
        with transaction.atomic():
            due = list(
                Booking.objects.select_for_update(skip_locked=True)
                .filter(status=BookingStatus.AWAITING_PAYMENT, pay_before__lte=now)
                .order_by("pay_before")
                .values_list("pk", flat=True)[:limit]
            )
            # the order's row is locked first, as `locks` has it; a refused one (paid meanwhile)
            # is left as it is
            expired += sum(expire_unpaid(booking_id=pk) for pk in due)
        if len(due) < limit:
            return expired


REVIVE = {
    Channel.HALL_SLOT: "revive_slot",
    Channel.DISPATCH: "revive_dispatch",
    Channel.CHOSEN: "revive_provider",
    Channel.TASK_HALL: "revive_provider",
}


def revive_paid(*, booking_id: int, reference: str = "") -> bool:
    """A payment arrived after its order expired: if the order's place or provider time is
    still free, take it again and the order goes on, paid. False (nothing changed) otherwise —
    the caller then refunds the payment."""
    booking = Booking.objects.select_related("service").filter(pk=booking_id).first()
    if booking is None or booking.status != BookingStatus.EXPIRED:
        return False
    if booking.channel not in REVIVE or booking.starts_at <= timezone.now():
        return False
    try:
        with transaction.atomic():
            if booking.slot_id:  # in the one lock order (yuyue.orders.locks)
                take_place_again(booking, per_user_limit=booking.service.per_user_limit)
            if booking.reservation_id:
                old = ProviderReservation.objects.get(pk=booking.reservation_id)
                fresh = reserve_provider_time(
                    provider_id=old.provider_id,
                    starts_at=old.starts_at,
                    ends_at=old.ends_at,
                    blocked_until=old.blocked_until,
                )
                Booking.objects.filter(pk=booking.pk).update(reservation=fresh)
            apply_step(
                booking,
                REVIVE[booking.channel],
                actor=None,
                role=SYSTEM,
                note=reference[:300],
                payment_status=PaymentStatus.PAID,
            )
    except (DomainError, IntegrityError):
        return False
    return True


# --- cancelling ------------------------------------------------------------------------------
