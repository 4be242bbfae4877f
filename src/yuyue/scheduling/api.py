"""Scheduling API: availability for customers; slots, templates and hours for merchants."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Query, Router, Schema, Status

from yuyue.accounts.auth import ANY_STAFF, bearer, require_staff
from yuyue.accounts.models import Provider
from yuyue.catalog.models import Hall, MerchantStatus, Service
from yuyue.core import sql
from yuyue.core.answers import as_built
from yuyue.core.errors import DomainError
from yuyue.core.timeutil import local_day_bounds, zone

from . import availability, services
from .models import SlotTemplate, TimeSlot

router = Router(tags=["scheduling"])


class SlotOut(Schema):
    id: int
    service_id: int
    hall_id: int
    hall_name: str
    starts_at: dt.datetime
    ends_at: dt.datetime
    local_start: str = Field(description="Start in the merchant's zone, YYYY-MM-DDTHH:MM")
    capacity: int | None
    remaining: int | None
    status: str
    bookable: bool
    deadline: dt.datetime


class SlotStaffOut(SlotOut):
    booked: int
    cancelled: int
    cancelled_by_staff: int


def _slot_out(slot: TimeSlot, tzname: str, *, staff: bool = False, extra: dict | None = None):
    service = slot.service
    deadline = availability.booking_deadline(slot, service)
    data = {
        "id": slot.pk,
        "service_id": slot.service_id,
        "hall_id": slot.hall_id,
        "hall_name": slot.hall.name,
        "starts_at": slot.starts_at,
        "ends_at": slot.ends_at,
        "local_start": slot.starts_at.astimezone(zone(tzname)).strftime("%Y-%m-%dT%H:%M"),
        "capacity": slot.capacity,
        "remaining": slot.remaining,
        "status": slot.status,
        "deadline": deadline,
        "bookable": False,
    }
    if staff:
        data.update(
            booked=slot.booked, cancelled=slot.cancelled, cancelled_by_staff=slot.cancelled_by_staff
        )
    data.update(extra or {})
    return data


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
        out.append(_slot_out(r["slot"], tz, extra={"bookable": r["bookable"]}))
    return out


class ProviderFree(Schema):
    provider_id: int
    name: str
    distance_km: float
    starts: list[dt.datetime]


@router.get("/services/{service_id}/provider-availability", response=list[ProviderFree], auth=None)
def provider_availability(
    request,
    service_id: int,
    date: dt.date,
    lat: float = Query(..., ge=-90, le=90),
    lng: float = Query(..., ge=-180, le=180),
    limit: int = Query(20, ge=1, le=100),
    provider_id: int | None = None,
):
    """Nearest qualified providers who can come to a point on a local day, with free starts."""
    service = _public_service(service_id)
    found = availability.provider_availability(
        service=service, day=date, lat=lat, lng=lng, limit=limit, provider_id=provider_id
    )
    return as_built(request, found)  # built in ProviderFree's shape (tested)


# --- merchant staff --------------------------------------------------------------------------


def _staff_service(request, merchant_id: int, service_id: int) -> Service:
    service = (
        Service.objects.select_related("merchant")
        .filter(pk=service_id, merchant_id=merchant_id)
        .first()
    )
    if service is None:
        raise DomainError("not_found")
    return service


def _staff_hall(merchant_id: int, hall_id: int) -> Hall:
    hall = Hall.objects.filter(pk=hall_id, merchant_id=merchant_id).first()
    if hall is None:
        raise DomainError("not_found")
    return hall


def _staff_slot(merchant_id: int, slot_id: int) -> TimeSlot:
    slot = (
        TimeSlot.objects.select_related("service", "service__merchant", "hall")
        .filter(pk=slot_id, service__merchant_id=merchant_id)
        .first()
    )
    if slot is None:
        raise DomainError("not_found")
    return slot


@router.get("/merchants/{merchant_id}/slots", response=list[SlotStaffOut], auth=bearer)
def staff_list_slots(
    request,
    merchant_id: int,
    date_from: dt.date,
    date_to: dt.date | None = None,
    service_id: int | None = None,
    hall_id: int | None = None,
):
    """Slots with their counts of booked, cancelled and cancelled-by-staff places."""
    require_staff(request.auth, merchant_id, ANY_STAFF)
    date_to = date_to or date_from
    if not 0 <= (date_to - date_from).days < availability.MAX_RANGE_DAYS:
        raise DomainError("invalid_date_range", max_days=availability.MAX_RANGE_DAYS)
    from yuyue.catalog.models import Merchant

    merchant = Merchant.objects.get(pk=merchant_id)
    tz = zone(merchant.timezone)
    lo, _ = local_day_bounds(date_from, tz)
    _, hi = local_day_bounds(date_to, tz)
    qs = TimeSlot.objects.select_related("service", "hall").filter(
        service__merchant_id=merchant_id, starts_at__gte=lo, starts_at__lt=hi
    )
    if service_id:
        qs = qs.filter(service_id=service_id)
    if hall_id:
        qs = qs.filter(hall_id=hall_id)
    return [_slot_out(s, merchant.timezone, staff=True) for s in qs.order_by("starts_at", "id")]


class SlotIn(Schema):
    service_id: int
    hall_id: int
    starts_at: dt.datetime
    ends_at: dt.datetime
    capacity: int | None = Field(None, ge=1, le=100_000)


class SlotPatch(Schema):
    capacity: int | None = Field(None, ge=1, le=100_000)
    status: str | None = Field(None, pattern="^(open|closed)$")


@router.post("/merchants/{merchant_id}/slots", response={201: SlotStaffOut}, auth=bearer)
def create_slot(request, merchant_id: int, body: SlotIn):
    service = _staff_service(request, merchant_id, body.service_id)
    hall = _staff_hall(merchant_id, body.hall_id)
    slot = services.create_slot(
        actor=request.auth,
        service=service,
        hall=hall,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        capacity=body.capacity,
    )
    slot.service, slot.hall = service, hall
    return Status(201, _slot_out(slot, service.merchant.timezone, staff=True))


@router.patch("/merchants/{merchant_id}/slots/{int:slot_id}", response=SlotStaffOut, auth=bearer)
def update_slot(request, merchant_id: int, slot_id: int, body: SlotPatch):
    slot = _staff_slot(merchant_id, slot_id)
    changes = body.dict(exclude_unset=True)
    if "capacity" in changes:
        slot = services.set_slot_capacity(
            actor=request.auth, slot=slot, capacity=changes["capacity"]
        )
    if changes.get("status") == "closed":
        slot = services.close_slot(actor=request.auth, slot=slot)
    elif changes.get("status") == "open":
        slot = services.open_slot(actor=request.auth, slot=slot)
    slot = _staff_slot(merchant_id, slot_id)
    return _slot_out(slot, slot.service.merchant.timezone, staff=True)


class CloseDayIn(Schema):
    service_id: int
    date: dt.date
    hall_id: int | None = None


@router.post("/merchants/{merchant_id}/slots/close-day", auth=bearer)
def close_day(request, merchant_id: int, body: CloseDayIn):
    service = _staff_service(request, merchant_id, body.service_id)
    hall = _staff_hall(merchant_id, body.hall_id) if body.hall_id else None
    count = services.close_day(actor=request.auth, service=service, day=body.date, hall=hall)
    return {"closed": count}


class TemplateRow(Schema):
    weekdays: list[int] = Field(default=[0, 1, 2, 3, 4, 5, 6])
    start: str = Field(pattern=r"^\d{2}:\d{2}$")
    end: str = Field(pattern=r"^\d{2}:\d{2}$")
    capacity: int | None = Field(None, ge=1, le=100_000)


class TemplateIn(Schema):
    service_id: int
    hall_id: int
    name: str = Field(min_length=1, max_length=100)
    rows: list[TemplateRow]


class TemplateOut(Schema):
    id: int
    service_id: int
    hall_id: int
    name: str
    rows: list[dict]


class FillIn(Schema):
    date_from: dt.date
    date_to: dt.date


@router.post("/merchants/{merchant_id}/slot-templates", response={201: TemplateOut}, auth=bearer)
def create_template(request, merchant_id: int, body: TemplateIn):
    service = _staff_service(request, merchant_id, body.service_id)
    hall = _staff_hall(merchant_id, body.hall_id)
    template = services.create_template(
        actor=request.auth,
        service=service,
        hall=hall,
        name=body.name,
        rows=[r.dict() for r in body.rows],
    )
    return Status(201, template)


@router.post("/merchants/{merchant_id}/slot-templates/{template_id}/fill", auth=bearer)
def fill_template(request, merchant_id: int, template_id: int, body: FillIn):
    template = (
        SlotTemplate.objects.select_related("service", "service__merchant", "hall")
        .filter(pk=template_id, service__merchant_id=merchant_id)
        .first()
    )
    if template is None:
        raise DomainError("not_found")
    created = services.fill_slots_from_template(
        actor=request.auth, template=template, date_from=body.date_from, date_to=body.date_to
    )
    return {"created": len(created)}


# --- provider hours --------------------------------------------------------------------------


class HoursIn(Schema):
    weekday: int = Field(ge=0, le=6)
    start: str = Field(pattern=r"^\d{2}:\d{2}$")
    end: str = Field(pattern=r"^\d{2}:\d{2}$")


class ExceptionIn(Schema):
    date: dt.date
    start: dt.time
    end: dt.time
    kind: str = Field(pattern="^(leave|extra)$")
    note: str = Field("", max_length=200)


def _provider(provider_id: int) -> Provider:
    p = Provider.objects.filter(pk=provider_id).first()
    if p is None:
        raise DomainError("not_found")
    return p


@router.put("/providers/{provider_id}/working-hours", response=list[HoursIn], auth=bearer)
def set_hours(request, provider_id: int, body: list[HoursIn]):
    rows = services.set_working_hours(
        actor=request.auth, provider=_provider(provider_id), hours=[h.dict() for h in body]
    )
    return [
        {"weekday": r.weekday, "start": r.start.strftime("%H:%M"), "end": r.end.strftime("%H:%M")}
        for r in rows
    ]


@router.post("/providers/{provider_id}/exceptions", response={201: ExceptionIn}, auth=bearer)
def add_exception(request, provider_id: int, body: ExceptionIn):
    services.add_availability_exception(
        actor=request.auth, provider=_provider(provider_id), **body.dict()
    )
    return Status(201, body)
