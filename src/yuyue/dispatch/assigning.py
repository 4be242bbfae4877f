"""People choosing the provider: a merchant's dispatchers or an operator assign or move an order
(with the reason, audited), and a provider gives an accepted order back (a breach on their record).
Each goes through `services._take`, like an accepted offer or a grab.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from yuyue.accounts.models import MerchantStaff, Provider, StaffRole
from yuyue.core.errors import DomainError
from yuyue.orders.models import Booking
from yuyue.orders.states import OPERATOR, PROVIDER, STAFF, apply_step
from yuyue.scheduling.models import ProviderReservation

from .models import Breach, Offer, OfferStatus
from .services import _take, can_take


def _dispatcher_role(actor, booking: Booking) -> str:
    if getattr(actor, "is_operator", False):
        return OPERATOR
    from yuyue.accounts.auth import require_staff

    require_staff(actor, booking.merchant_id, (StaffRole.OWNER, StaffRole.MANAGER))
    return STAFF


def _order_for_dispatcher(actor, booking_id: int) -> Booking | None:
    """The order, if the actor may dispatch it. Someone who dispatches for no merchant is refused
    before anything is looked up; a dispatcher finds only their merchants' orders (another's is
    not found, as a missing one is: ids tell no one what exists)."""
    orders = Booking.objects.select_related("service").filter(pk=booking_id)
    if not getattr(actor, "is_operator", False):
        mine = MerchantStaff.objects.filter(
            user_id=getattr(actor, "pk", None), role__in=(StaffRole.OWNER, StaffRole.MANAGER)
        ).values("merchant_id")
        if not mine.exists():
            raise DomainError("forbidden")
        orders = orders.filter(merchant_id__in=mine)
    return orders.first()


def assign_order(*, actor, booking_id: int, provider_id: int, reason: str = "") -> Booking:
    """An operator or the merchant's dispatcher gives an open order to a provider by hand."""
    booking = _order_for_dispatcher(actor, booking_id)
    provider = Provider.objects.filter(pk=provider_id).first()
    if booking is None or provider is None:
        raise DomainError("not_found")
    role = _dispatcher_role(actor, booking)
    why = can_take(provider, booking)
    if why:
        raise DomainError(why)
    try:
        with transaction.atomic():
            Offer.objects.filter(booking=booking, status=OfferStatus.PENDING).update(
                status=OfferStatus.WITHDRAWN, answered_at=timezone.now()
            )
            return _take(booking, provider, actor=actor, role=role)
    except DomainError as exc:
        if exc.code == "illegal_transition":
            raise DomainError("already_taken") from exc
        raise


def reassign_order(
    *, actor, booking_id: int, provider_id: int, from_provider_id: int, reason: str = ""
) -> Booking:
    """Move an accepted order to another provider. The caller names the provider they saw, so
    of two operators reassigning at once exactly one wins; the other gets already_taken."""
    booking = _order_for_dispatcher(actor, booking_id)
    provider = Provider.objects.filter(pk=provider_id).first()
    if booking is None or provider is None:
        raise DomainError("not_found")
    role = _dispatcher_role(actor, booking)
    if provider.pk == booking.provider_id:
        raise DomainError("already_taken")
    why = can_take(provider, booking)
    if why:
        raise DomainError(why)
    old_reservation = booking.reservation_id
    try:
        with transaction.atomic():
            ProviderReservation.objects.filter(pk=old_reservation).update(active=False)
            return _take(
                booking,
                provider,
                actor=actor,
                role=role,
                step="reassign",
                expected_provider_id=from_provider_id,
            )
    except DomainError as exc:
        if exc.code == "illegal_transition":
            raise DomainError("already_taken") from exc
        raise


def provider_release_order(*, actor, booking_id: int, reason: str) -> Booking:
    """A provider gives an accepted order back: it returns to dispatch and a breach is noted."""
    provider = getattr(actor, "provider", None) if hasattr(actor, "provider") else None
    booking = Booking.objects.filter(pk=booking_id).first()
    if booking is None or provider is None or booking.provider_id != provider.pk:
        raise DomainError("not_found")
    if not reason or not reason.strip():
        raise DomainError("reason_required")
    with transaction.atomic():
        ProviderReservation.objects.filter(pk=booking.reservation_id).update(active=False)
        booking = apply_step(
            booking,
            "release",
            actor=actor,
            role=PROVIDER,
            note=reason,
            provider=None,
            reservation=None,
            dispatch_rounds=0,
            extra_filter={"provider_id": provider.pk},
        )
        Breach.objects.create(
            provider=provider, booking=booking, kind="provider_cancelled", note=reason[:300]
        )
    return booking
