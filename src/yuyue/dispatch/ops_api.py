"""Dispatch API for operators and merchants' dispatchers: the queue, manual assignment."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Query, Router, Schema

from yuyue.accounts.auth import bearer, require_staff
from yuyue.accounts.models import StaffRole
from yuyue.core.errors import DomainError
from yuyue.orders.models import Booking
from yuyue.orders.schemas import (
    BookingOut,
    booking_out,
    load_booking,
)

from . import assigning

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


class RecordLine(Schema):
    kind: str
    at: dt.datetime
    booking_id: int
    note: str


class RecordOut(Schema):
    provider_id: int
    days: int
    offers: int
    rejected: int
    expired: int
    released: int
    late: int
    weighed: int = Field(
        description="What dispatch counts against the provider now (the last YUYUE_RECORD_DAYS "
        "days: breaches, and offers missed beyond the forgiven)"
    )
    lines: list[RecordLine]


@router.get("/ops/providers/{provider_id}/record", response=RecordOut, auth=bearer)
def provider_record(request, provider_id: int, days: int = Query(30, ge=1, le=365)):
    """A provider's broken commitments: orders given back, late arrivals, offers turned down or
    left to expire. Operators see any provider's; a merchant's managers their own providers'."""
    from yuyue.accounts.models import Provider

    from .record import provider_record as record

    provider = Provider.objects.filter(pk=provider_id).first()
    if not getattr(request.auth, "is_operator", False):
        # an outsider learns nothing, not even whether the provider exists
        if provider is None or provider.merchant_id is None:
            raise DomainError("forbidden")
        require_staff(request.auth, provider.merchant_id, (StaffRole.OWNER, StaffRole.MANAGER))
    elif provider is None:
        raise DomainError("not_found")
    data = record(provider, days=days)
    lines = [
        {"kind": b.kind, "at": b.at, "booking_id": b.booking_id, "note": b.note}
        for b in data["breaches"]
    ] + [
        {"kind": f"offer_{o.status}", "at": o.sent_at, "booking_id": o.booking_id, "note": o.reason}
        for o in data["missed_offers"]
    ]
    return {
        "provider_id": provider.pk,
        **{
            k: data[k]
            for k in ("days", "offers", "rejected", "expired", "released", "late", "weighed")
        },
        "lines": sorted(lines, key=lambda x: x["at"], reverse=True),
    }


class AssignIn(Schema):
    provider_id: int
    reason: str = Field("", max_length=200)


class ReassignIn(AssignIn):
    from_provider_id: int


@router.post("/ops/orders/{booking_id}/assign", response=BookingOut, auth=bearer)
def assign(request, booking_id: int, body: AssignIn):
    booking = assigning.assign_order(
        actor=request.auth, booking_id=booking_id, provider_id=body.provider_id, reason=body.reason
    )
    return booking_out(load_booking(booking.pk))


@router.post("/ops/orders/{booking_id}/reassign", response=BookingOut, auth=bearer)
def reassign(request, booking_id: int, body: ReassignIn):
    """Move an accepted order to another provider; name the provider you saw on it."""
    booking = assigning.reassign_order(
        actor=request.auth,
        booking_id=booking_id,
        provider_id=body.provider_id,
        from_provider_id=body.from_provider_id,
        reason=body.reason,
    )
    return booking_out(load_booking(booking.pk))
