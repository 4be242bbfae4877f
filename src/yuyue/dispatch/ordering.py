"""Ordering an on-site service with no provider named: checked up front, then dispatched."""

from __future__ import annotations

import datetime as dt

from django.db import transaction

from yuyue.accounts.models import Provider
from yuyue.catalog.models import MerchantStatus, Service, ServiceKind
from yuyue.core.errors import DomainError
from yuyue.core.timeutil import UTC, ahead, zone
from yuyue.orders.metrics import refusals_counted
from yuyue.orders.models import Booking, BookingStatus, Channel
from yuyue.orders.placing import payment_terms, place_order, require_customer
from yuyue.pricing.prices import unit_price, valid_quote
from yuyue.scheduling.availability import haversine_km, on_step, provider_availability

MAX_QUANTITY = 8


def _service(service_id: int) -> Service:
    service = Service.objects.select_related("merchant").filter(pk=service_id).first()
    if service is None:
        raise DomainError("not_found")
    if service.kind != ServiceKind.ON_SITE:
        raise DomainError("wrong_service_kind")
    if service.merchant.status != MerchantStatus.ACTIVE or not service.active:
        raise DomainError("service_inactive")
    return service


def check_onsite(
    *, service_id: int, starts_at: dt.datetime, lat: float, lng: float, quantity: int = 1
) -> dict:
    """Can any qualified provider come then? If not, the nearest free start times that day."""
    service = _service(service_id)
    ahead(starts_at)
    if not on_step(service, starts_at, service.merchant.timezone):
        raise DomainError("time_off_step", step=service.step_minutes)
    if not 1 <= quantity <= MAX_QUANTITY:
        raise DomainError("invalid_input", f"quantity is 1 to {MAX_QUANTITY}.")
    day = starts_at.astimezone(zone(service.merchant.timezone)).date()
    duration = service.duration_minutes * quantity
    original = service.duration_minutes
    service.duration_minutes = duration  # the job is as long as the quantity booked
    try:
        free = provider_availability(service=service, day=day, lat=lat, lng=lng, limit=100)
    finally:
        service.duration_minutes = original
    starts = sorted({s for p in free for s in p["starts"]})
    wanted = starts_at.astimezone(UTC)
    available = any(s == wanted for s in starts)
    alternatives = sorted(starts, key=lambda s: (abs((s - wanted).total_seconds()), s))[:5]
    return {
        "available": available,
        "providers": len(free),
        "alternatives": alternatives,
        "service": service,
        "duration": duration,
    }


@refusals_counted("dispatch")
def place_onsite_order(
    *,
    actor,
    service_id: int,
    starts_at: dt.datetime,
    address: str,
    lat: float,
    lng: float,
    quantity: int = 1,
    options: dict | None = None,
    quote_id: int | None = None,
) -> Booking:
    """Create the order; with `quote_id` its price is the quote's, and the quote is locked."""
    customer = require_customer(actor)
    if not address or not address.strip():
        raise DomainError("address_required")
    check = check_onsite(
        service_id=service_id, starts_at=starts_at, lat=lat, lng=lng, quantity=quantity
    )
    if not check["available"]:
        if not check["alternatives"] and not check["providers"]:
            covered = any(
                p.lat is not None and haversine_km(lat, lng, p.lat, p.lng) <= p.service_radius_km
                for p in Provider.objects.filter(
                    active=True, verified=True, services=check["service"]
                )
            )
            if not covered:
                raise DomainError("outside_service_area")
        raise DomainError(
            "no_provider_available",
            errors=[{"alternative": s.isoformat()} for s in check["alternatives"]],
        )
    service = check["service"]
    quote = None
    if quote_id is not None:
        quote = valid_quote(
            quote_id=quote_id,
            customer=customer,
            service_id=service.pk,
            starts_at=starts_at,
            quantity=quantity,
        )
    price = quote.total_fen if quote else unit_price(service, starts_at)[0] * quantity
    if quote is not None:
        options = quote.options  # what was priced is what is ordered
    with transaction.atomic():
        return place_order(
            actor=customer,
            quote=quote,
            audit_data={"channel": "dispatch", "quantity": quantity},
            customer=customer,
            merchant_id=service.merchant_id,
            service=service,
            starts_at=starts_at,
            ends_at=starts_at + dt.timedelta(minutes=check["duration"]),
            places=1,
            quantity=quantity,
            options=options or {},
            address=address.strip()[:300],
            lat=lat,
            lng=lng,
            price_fen=price,
            channel=Channel.DISPATCH,
            **{"status": BookingStatus.AWAITING_PROVIDER, **payment_terms(price)},
        )
