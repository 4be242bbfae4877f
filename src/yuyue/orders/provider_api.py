"""Booking API for providers: their orders, and the steps of the work on site."""

from __future__ import annotations

from typing import Literal

from ninja import Query, Router

from yuyue.accounts.auth import bearer
from yuyue.core.errors import DomainError
from yuyue.core.paging import offset_param

from . import fulfilment
from .models import Booking
from .schemas import CodePointIn, PointIn, ProviderOrderOut, load_booking, provider_order_out

router = Router(tags=["provider"])


@router.get("/provider/orders", response=list[ProviderOrderOut], auth=bearer)
def provider_orders(
    request,
    view: Literal["active", "done", "all"] = "active",
    offset: int = offset_param(),
    limit: int = Query(50, ge=1, le=200),
):
    """The signed-in provider's orders: active (accepted to in service), done, or all."""
    provider = (
        getattr(request.auth, "provider", None) if hasattr(request.auth, "provider") else None
    )
    if provider is None:
        raise DomainError("forbidden")
    qs = Booking.objects.filter(provider=provider).select_related(
        "service", "merchant", "slot__hall", "provider", "customer"
    )
    if view == "active":
        qs = qs.filter(status__in=["accepted", "departed", "arrived", "in_service"]).order_by(
            "starts_at"
        )
    elif view == "done":
        qs = qs.filter(status="completed")
    return [provider_order_out(b) for b in qs[offset : offset + limit]]


@router.post("/provider/orders/{booking_id}/depart", response=ProviderOrderOut, auth=bearer)
def provider_depart(request, booking_id: int, body: PointIn):
    """The provider sets off to the customer (with where they are)."""
    booking = fulfilment.depart(actor=request.auth, booking_id=booking_id, **body.dict())
    return provider_order_out(load_booking(booking.pk))


@router.post("/provider/orders/{booking_id}/arrive", response=ProviderOrderOut, auth=bearer)
def provider_arrive(request, booking_id: int, body: PointIn):
    """The provider is at the customer's door."""
    booking = fulfilment.arrive(actor=request.auth, booking_id=booking_id, **body.dict())
    return provider_order_out(load_booking(booking.pk))


@router.post(
    "/provider/orders/{booking_id}/customer-absent", response=ProviderOrderOut, auth=bearer
)
def provider_customer_absent(request, booking_id: int, body: PointIn):
    """The provider is at the door, has waited, and nobody is there: a no-show, refunded by the
    service's rules (what is kept pays the provider's share too)."""
    booking = fulfilment.customer_absent(actor=request.auth, booking_id=booking_id, **body.dict())
    return provider_order_out(load_booking(booking.pk))


@router.post("/provider/orders/{booking_id}/start", response=ProviderOrderOut, auth=bearer)
def provider_start(request, booking_id: int, body: CodePointIn):
    """The provider starts the work with the customer's verification code."""
    booking = fulfilment.start_service(actor=request.auth, booking_id=booking_id, **body.dict())
    return provider_order_out(load_booking(booking.pk))


@router.post("/provider/orders/{booking_id}/complete", response=ProviderOrderOut, auth=bearer)
def provider_complete(request, booking_id: int, body: CodePointIn):
    """The provider finishes the work with the customer's verification code."""
    booking = fulfilment.complete_service(actor=request.auth, booking_id=booking_id, **body.dict())
    return provider_order_out(load_booking(booking.pk))
