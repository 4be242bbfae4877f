"""What the scheduling API's routers share: a slot as it is shown."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema

from yuyue.core.timeutil import zone

from . import availability
from .models import TimeSlot


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


def slot_out(slot: TimeSlot, tzname: str, *, staff: bool = False, extra: dict | None = None):
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
        "bookable": availability.bookable(slot, service),
    }
    if staff:
        data.update(
            booked=slot.booked, cancelled=slot.cancelled, cancelled_by_staff=slot.cancelled_by_staff
        )
    data.update(extra or {})
    return data
