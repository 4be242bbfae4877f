"""Scheduling API for customers: a service's slots and the providers free for it."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Query, Router, Schema

from yuyue.catalog.models import MerchantStatus, Service
from yuyue.core import sql
from yuyue.core.answers import as_built
from yuyue.core.errors import DomainError

from . import availability
from .schemas import SlotOut, slot_out

router = Router(tags=["scheduling"])


def _public_service(service_id: int) -> Service:
    # a statement built once (yuyue.core.sql): every availability search asks
    s = sql.select_one(Service, "t0.id = %s", [service_id], related=("merchant",))
    if s is None or not s.active or s.merchant.status != MerchantStatus.ACTIVE:
        raise DomainError("not_found")
    return s


@router.get("/services/{service_id}/availability", response=list[SlotOut], auth=None)
def hall_availability(
    request,
    service_id: int,
    date_from: dt.date,
    date_to: dt.date | None = None,
    hall_id: int | None = None,
):
    """Slots of a hall-slot service over local dates, with remaining places."""
    service = _public_service(service_id)
    rows = availability.hall_availability(
        service=service, date_from=date_from, date_to=date_to or date_from, hall_id=hall_id
    )
    tz = service.merchant.timezone
    out = []
    for r in rows:
        r["slot"].service = service
        out.append(slot_out(r["slot"], tz))
    return out


class ProviderFree(Schema):
    provider_id: int
    name: str
    distance_km: float | None = Field(description="None for a remote service (a call).")
    starts: list[dt.datetime]


@router.get("/services/{service_id}/provider-availability", response=list[ProviderFree], auth=None)
def provider_availability(
    request,
    service_id: int,
    date: dt.date,
    lat: float | None = Query(None, ge=-90, le=90, description="Needed unless remote."),
    lng: float | None = Query(None, ge=-180, le=180, description="Needed unless remote."),
    limit: int = Query(20, ge=1, le=100),
    provider_id: int | None = None,
):
    """Qualified providers with free starts on a local day: the nearest who can come to a point
    for a service at your place; for a remote service (a timed call) no point is needed."""
    service = _public_service(service_id)
    found = availability.provider_availability(
        service=service, day=date, lat=lat, lng=lng, limit=limit, provider_id=provider_id
    )
    return as_built(request, found)  # built in ProviderFree's shape (tested)
