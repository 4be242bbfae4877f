"""Scheduling API for a merchant's managers: slots, templates, closing a day, providers' hours."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Router, Schema, Status

from yuyue.accounts.auth import ANY_STAFF, bearer, require_staff
from yuyue.accounts.models import Provider
from yuyue.catalog.models import Hall, Service
from yuyue.core.errors import DomainError
from yuyue.core.schemas import CLOCK, Day, Moment, PatchSchema, Weekday

from . import services
from .models import SlotTemplate, TimeSlot
from .schemas import SlotStaffOut, slot_out

router = Router(tags=["merchant staff"])


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
    from yuyue.catalog.models import Merchant

    merchant = Merchant.objects.filter(pk=merchant_id).first()
    if merchant is None:  # operators pass require_staff for any id
        raise DomainError("not_found")
    qs = services.slots_between(
        merchant,
        date_from,
        date_to or date_from,
        service_id=service_id,
        hall_id=hall_id,
        viewer=request.auth,
    )
    return [slot_out(s, merchant.timezone, staff=True) for s in qs]


class SlotIn(Schema):
    service_id: int
    hall_id: int
    starts_at: Moment
    ends_at: Moment
    capacity: int | None = Field(None, ge=1, le=100_000)


class SlotPatch(PatchSchema):
    NULLABLE = frozenset({"capacity"})

    capacity: int | None = Field(None, ge=1, le=100_000)
    status: str | None = Field(None, pattern="^(open|closed)$")
    message: str | None = Field(
        None, max_length=300, description="Closing: what those booked are told."
    )


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
    return Status(201, slot_out(slot, service.merchant.timezone, staff=True))


@router.patch("/merchants/{merchant_id}/slots/{int:slot_id}", response=SlotStaffOut, auth=bearer)
def update_slot(request, merchant_id: int, slot_id: int, body: SlotPatch):
    slot = _staff_slot(merchant_id, slot_id)
    changes = body.dict(exclude_unset=True)
    if "capacity" in changes:
        slot = services.set_slot_capacity(
            actor=request.auth, slot=slot, capacity=changes["capacity"]
        )
    if changes.get("status") == "closed":
        slot = services.close_slot(
            actor=request.auth, slot=slot, message=changes.get("message") or ""
        )
    elif changes.get("status") == "open":
        slot = services.open_slot(actor=request.auth, slot=slot)
    slot = _staff_slot(merchant_id, slot_id)
    return slot_out(slot, slot.service.merchant.timezone, staff=True)


class CloseDayIn(Schema):
    service_id: int
    date: Day
    hall_id: int | None = None
    message: str = Field("", max_length=300, description="What those booked are told.")


@router.post("/merchants/{merchant_id}/slots/close-day", auth=bearer)
def close_day(request, merchant_id: int, body: CloseDayIn):
    service = _staff_service(request, merchant_id, body.service_id)
    hall = _staff_hall(merchant_id, body.hall_id) if body.hall_id else None
    count = services.close_day(
        actor=request.auth, service=service, day=body.date, hall=hall, message=body.message
    )
    return {"closed": count}


class TemplateRow(Schema):
    weekdays: list[Weekday] = Field(default=[0, 1, 2, 3, 4, 5, 6])
    start: str = Field(pattern=CLOCK)
    end: str = Field(pattern=CLOCK)
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
    date_from: Day
    date_to: Day


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
    result = services.fill_slots_from_template(
        actor=request.auth, template=template, date_from=body.date_from, date_to=body.date_to
    )
    return {"created": len(result.created), "skipped": result.skipped}


class HoursIn(Schema):
    weekday: int = Field(ge=0, le=6)
    start: str = Field(pattern=CLOCK)
    end: str = Field(pattern=CLOCK)


class ExceptionIn(Schema):
    date: Day
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
