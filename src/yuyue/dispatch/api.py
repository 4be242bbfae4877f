"""Dispatch API for customers: on-site orders, following the provider, the task hall."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Query, Router, Schema

from yuyue.accounts.auth import bearer
from yuyue.core.errors import DomainError
from yuyue.core.idempotency import created_once, key_header
from yuyue.core.schemas import Moment, Whole
from yuyue.orders.schemas import (
    BookingOut,
    booking_out,
    load_booking,
)

from . import ordering
from .schemas import NeedOut, TrackingOut, need_out

router = Router(tags=["dispatch"])


class OnsiteIn(Schema):
    service_id: int
    starts_at: Moment
    address: str = Field(min_length=1, max_length=300)
    lat: float = Field(ge=-90, le=90, strict=True)
    lng: float = Field(ge=-180, le=180, strict=True)
    quantity: Whole = Field(1, ge=1, le=ordering.MAX_QUANTITY)
    options: dict = {}
    quote_id: int | None = Field(None, description="Lock the price of a quote from /api/quotes")


class CheckOut(Schema):
    available: bool
    providers: int
    alternatives: list[dt.datetime]


@router.get("/orders/onsite/check", response=CheckOut, auth=None)
def check(
    request,
    service_id: int,
    starts_at: dt.datetime,
    lat: float = Query(..., ge=-90, le=90),
    lng: float = Query(..., ge=-180, le=180),
    quantity: int = Query(1, ge=1, le=ordering.MAX_QUANTITY),
):
    """Can anyone come then? If not, the nearest times someone can. Creates nothing."""
    return ordering.check_onsite(
        service_id=service_id, starts_at=starts_at, lat=lat, lng=lng, quantity=quantity
    )


@router.post("/orders/onsite", response={201: BookingOut, 200: BookingOut}, auth=bearer)
def place(request, body: OnsiteIn, idempotency_key: str | None = key_header()):
    """Order an on-site service at an address and time; the platform finds the provider."""

    def create():
        booking = ordering.place_onsite_order(actor=request.auth, **body.model_dump())
        return booking_out(load_booking(booking.pk))

    return created_once(
        request, body, idempotency_key, scope="onsite", create=create, schema=BookingOut
    )


@router.get("/bookings/{booking_id}/tracking", response=TrackingOut, auth=bearer)
def get_tracking(request, booking_id: int):
    """The provider's latest position and ETA (or watch `ws/bookings/<id>/track/?token=`)."""
    from . import tracking

    return tracking.latest(actor=request.auth, booking_id=booking_id)


class NeedIn(Schema):
    category_id: int
    title: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=2000)
    starts_at: Moment
    duration_minutes: int = Field(120, ge=15, le=1440)
    address: str = Field(min_length=1, max_length=300)
    lat: float = Field(ge=-90, le=90, strict=True)
    lng: float = Field(ge=-180, le=180, strict=True)
    budget_fen: Whole = Field(gt=0)


@router.post("/needs", response={201: NeedOut}, auth=bearer)
def publish(request, body: NeedIn, idempotency_key: str | None = key_header()):
    """Publish a need with a budget; qualified providers near it may apply."""
    from . import taskhall

    return created_once(
        request,
        body,
        idempotency_key,
        scope="need",
        create=lambda: need_out(
            taskhall.publish_need(actor=request.auth, **body.model_dump()), request.auth
        ),
        schema=NeedOut,
    )


@router.get("/needs", response=list[NeedOut], auth=bearer)
def my_needs(request):
    from .models import Need

    return [
        need_out(n, request.auth)
        for n in Need.objects.filter(customer=request.auth).order_by("-created_at")[:100]
    ]


@router.get("/needs/{need_id}", response=NeedOut, auth=bearer)
def need_detail(request, need_id: int):
    from .models import Need
    from .taskhall import qualifies

    need = Need.objects.filter(pk=need_id).first()
    user = request.auth
    provider = getattr(user, "provider", None) if hasattr(user, "provider") else None
    visible = need is not None and (
        need.customer_id == user.pk
        or user.is_operator
        or (
            provider is not None
            and (qualifies(provider, need) or need.applications.filter(provider=provider).exists())
        )
    )
    if not visible:
        raise DomainError("not_found")
    return need_out(need, user)


@router.post("/needs/{need_id}/cancel", response=NeedOut, auth=bearer)
def cancel_need(request, need_id: int):
    from . import taskhall

    return need_out(taskhall.cancel_need(actor=request.auth, need_id=need_id), request.auth)


class PickIn(Schema):
    application_id: int


@router.post("/needs/{need_id}/pick", response=BookingOut, auth=bearer)
def pick(request, need_id: int, body: PickIn):
    """Pick one application: it becomes an order with that provider; the others are told."""
    from . import taskhall

    booking = taskhall.pick_application(
        actor=request.auth, need_id=need_id, application_id=body.application_id
    )
    return booking_out(load_booking(booking.pk))
