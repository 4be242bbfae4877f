"""Dispatch API for providers: offers, the grab feed, sharing their location, the task hall."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Query, Router, Schema, Status

from yuyue.accounts.auth import bearer
from yuyue.core.errors import DomainError
from yuyue.core.schemas import Whole
from yuyue.orders.schemas import (
    ProviderOrderOut,
    load_booking,
    provider_order_out,
)

from . import assigning, services
from .models import Offer, OfferStatus
from .schemas import ApplicationOut, NeedOut, ReasonIn, TrackingOut, need_out

router = Router(tags=["provider"])


class OfferOut(Schema):
    id: int
    status: str
    expires_at: dt.datetime
    travel_minutes: float | None
    order: ProviderOrderOut


class DutyIn(Schema):
    duty: str = Field(pattern="^(on_duty|off_duty|resting)$")


class DutyOut(Schema):
    duty: str


@router.post("/provider/duty", response=DutyOut, auth=bearer)
def set_duty(request, body: DutyIn):
    """Take new orders (on_duty) or not (off_duty, resting): offers go only to providers on
    duty."""
    from yuyue.catalog.people import set_duty as set_provider_duty

    return {"duty": set_provider_duty(actor=request.auth, duty=body.duty).duty}


@router.get("/provider/offers", response=list[OfferOut], auth=bearer)
def my_offers(request):
    provider = (
        getattr(request.auth, "provider", None) if hasattr(request.auth, "provider") else None
    )
    if provider is None:
        raise DomainError("forbidden")
    offers = Offer.objects.filter(provider=provider, status=OfferStatus.PENDING)
    return [
        {
            "id": o.pk,
            "status": o.status,
            "expires_at": o.expires_at,
            "travel_minutes": o.travel_minutes,
            "order": provider_order_out(load_booking(o.booking_id)),
        }
        for o in offers
    ]


@router.post("/provider/offers/{offer_id}/accept", response=ProviderOrderOut, auth=bearer)
def accept(request, offer_id: int):
    booking = services.accept_offer(actor=request.auth, offer_id=offer_id)
    return provider_order_out(load_booking(booking.pk))


@router.post("/provider/offers/{offer_id}/reject", response={204: None}, auth=bearer)
def reject(request, offer_id: int, body: ReasonIn):
    services.reject_offer(actor=request.auth, offer_id=offer_id, reason=body.reason)
    return Status(204, None)


@router.post("/provider/orders/{booking_id}/release", response=ProviderOrderOut, auth=bearer)
def release(request, booking_id: int, body: ReasonIn):
    """The provider gives an accepted order back (recorded as a breach)."""
    booking = assigning.provider_release_order(
        actor=request.auth, booking_id=booking_id, reason=body.reason
    )
    return provider_order_out(load_booking(booking.pk))


class FeedItem(Schema):
    distance_km: float
    order: ProviderOrderOut


@router.get("/provider/grab-feed", response=list[FeedItem], auth=bearer)
def grab_feed(request, limit: int = Query(50, ge=1, le=200)):
    """Open orders near you that fit your skills and free time, nearest first."""
    return [
        {"distance_km": round(d, 2), "order": provider_order_out(load_booking(b.pk))}
        for b, d in services.grab_feed(actor=request.auth, limit=limit)
    ]


@router.post("/provider/grab/{booking_id}", response=ProviderOrderOut, auth=bearer)
def grab(request, booking_id: int):
    """Grab an open order 抢单: the first qualified provider wins."""
    booking = services.grab_order(actor=request.auth, booking_id=booking_id)
    return provider_order_out(load_booking(booking.pk))


class LocationIn(Schema):
    lat: float = Field(ge=-90, le=90, strict=True)
    lng: float = Field(ge=-180, le=180, strict=True)
    accuracy_m: float | None = Field(None, ge=0, le=100_000, strict=True)


@router.post("/provider/orders/{booking_id}/location", response=TrackingOut, auth=bearer)
def post_location(request, booking_id: int, body: LocationIn):
    """Where the provider is now (at most one position per few seconds)."""
    from . import tracking

    return tracking.post_location(actor=request.auth, booking_id=booking_id, **body.dict())


class NeedCard(Schema):
    distance_km: float
    need: NeedOut


@router.get("/provider/needs", response=list[NeedCard], auth=bearer)
def needs_for_me(request):
    """Open needs you qualify for, nearest first."""
    from . import taskhall

    return [
        {"distance_km": round(d, 2), "need": need_out(n, request.auth)}
        for n, d in taskhall.open_needs_for(actor=request.auth)
    ]


class ApplyIn(Schema):
    price_fen: Whole = Field(gt=0)
    message: str = Field("", max_length=500)


@router.post("/provider/needs/{need_id}/apply", response={201: ApplicationOut}, auth=bearer)
def apply(request, need_id: int, body: ApplyIn):
    from . import taskhall

    a = taskhall.apply_to_need(actor=request.auth, need_id=need_id, **body.dict())
    return Status(
        201,
        {
            "id": a.pk,
            "provider_id": a.provider_id,
            "provider_name": a.provider.display_name,
            "price_fen": a.price_fen,
            "message": a.message,
            "status": a.status,
        },
    )


@router.post("/provider/applications/{application_id}/withdraw", response={204: None}, auth=bearer)
def withdraw(request, application_id: int):
    from . import taskhall

    taskhall.withdraw_application(actor=request.auth, application_id=application_id)
    return Status(204, None)
