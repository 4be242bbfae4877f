"""Dispatch API for operators and merchants' dispatchers: the queue, manual assignment."""

from __future__ import annotations

from ninja import Field, Router, Schema

from yuyue.accounts.auth import bearer, require_staff
from yuyue.accounts.models import StaffRole
from yuyue.core.errors import DomainError
from yuyue.orders.models import Booking
from yuyue.orders.schemas import (
    BookingOut,
    booking_out,
    load_booking,
)

from . import services

router = Router(tags=["operators"])


@router.get("/ops/dispatch/queue", response=list[BookingOut], auth=bearer)
def queue(request, merchant_id: int | None = None):
    """Orders dispatch gave up on. Operators see all; a merchant's managers see theirs."""
    qs = Booking.objects.filter(needs_operator=True, status="awaiting_provider")
    if not getattr(request.auth, "is_operator", False):
        if merchant_id is None:
            raise DomainError("forbidden")
        require_staff(request.auth, merchant_id, (StaffRole.OWNER, StaffRole.MANAGER))
    if merchant_id is not None:
        qs = qs.filter(merchant_id=merchant_id)
    return [booking_out(load_booking(b.pk)) for b in qs.order_by("starts_at")[:500]]


class AssignIn(Schema):
    provider_id: int
    reason: str = Field("", max_length=200)


class ReassignIn(AssignIn):
    from_provider_id: int


@router.post("/ops/orders/{booking_id}/assign", response=BookingOut, auth=bearer)
def assign(request, booking_id: int, body: AssignIn):
    booking = services.assign_order(
        actor=request.auth, booking_id=booking_id, provider_id=body.provider_id, reason=body.reason
    )
    return booking_out(load_booking(booking.pk))


@router.post("/ops/orders/{booking_id}/reassign", response=BookingOut, auth=bearer)
def reassign(request, booking_id: int, body: ReassignIn):
    """Move an accepted order to another provider; name the provider you saw on it."""
    booking = services.reassign_order(
        actor=request.auth,
        booking_id=booking_id,
        provider_id=body.provider_id,
        from_provider_id=body.from_provider_id,
        reason=body.reason,
    )
    return booking_out(load_booking(booking.pk))
