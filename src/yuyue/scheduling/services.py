"""Writing calendars: hall slots and templates, closing slots and days, providers' hours."""

from __future__ import annotations

import datetime as dt
from typing import Any, NamedTuple

from django.db import IntegrityError, transaction

from yuyue.accounts.auth import MANAGERS, require_staff, staff_halls
from yuyue.accounts.models import Provider
from yuyue.catalog.models import Hall, Service, ServiceKind
from yuyue.core.audit import audit
from yuyue.core.errors import DomainError
from yuyue.core.timeutil import aware, is_skipped, local_day_bounds, local_dt, zone

from .availability import MAX_RANGE_DAYS
from .events import slots_closed
from .models import (
    AvailabilityException,
    ExceptionKind,
    SlotStatus,
    SlotTemplate,
    TimeSlot,
    WorkingHours,
)

MAX_FILL_DAYS = 366


def _hall_service(service: Service, hall: Hall) -> None:
    if service.kind != ServiceKind.HALL_SLOT:
        raise DomainError("wrong_service_kind")
    if hall.merchant_id != service.merchant_id:
        raise DomainError("not_found")


def _check_capacity(capacity: int | None) -> None:
    if capacity is not None and (isinstance(capacity, bool) or not 1 <= capacity <= 100_000):
        raise DomainError("invalid_input", "Capacity must be between 1 and 100000, or empty.")


def create_slot(
    *,
    actor,
    service: Service,
    hall: Hall,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    capacity: int | None,
) -> TimeSlot:
    require_staff(actor, service.merchant_id, MANAGERS, hall_id=hall.pk)
    _hall_service(service, hall)
    _check_capacity(capacity)
    aware(starts_at, "starts_at")
    aware(ends_at, "ends_at")
    if ends_at <= starts_at:
        raise DomainError("invalid_slot_range")
    with transaction.atomic():
        overlapping = TimeSlot.objects.filter(
            service=service, hall=hall, starts_at__lt=ends_at, ends_at__gt=starts_at
        ).exists()
        if overlapping:
            raise DomainError("slot_overlaps")
        try:
            with transaction.atomic():
                slot = TimeSlot.objects.create(
                    service=service,
                    hall=hall,
                    starts_at=starts_at,
                    ends_at=ends_at,
                    capacity=capacity,
                )
        except IntegrityError as exc:
            raise DomainError("slot_exists") from exc
        audit(actor, "slot.create", slot, capacity=capacity)
    return slot


def set_slot_capacity(*, actor, slot: TimeSlot, capacity: int | None) -> TimeSlot:
    """Change a slot's capacity; never below the places already booked (checked by the UPDATE)."""
    require_staff(actor, slot.service.merchant_id, MANAGERS, hall_id=slot.hall_id)
    _check_capacity(capacity)
    with transaction.atomic():
        rows = TimeSlot.objects.filter(pk=slot.pk)
        if capacity is not None:
            rows = rows.filter(booked__lte=capacity)
        if not rows.update(capacity=capacity):
            slot.refresh_from_db()
            raise DomainError("capacity_below_booked", booked=slot.booked)
        audit(actor, "slot.capacity", slot, capacity=capacity)
    slot.refresh_from_db()
    return slot


def _set_status(actor, slot: TimeSlot, status: str, message: str = "") -> TimeSlot:
    require_staff(actor, slot.service.merchant_id, MANAGERS, hall_id=slot.hall_id)
    with transaction.atomic():
        TimeSlot.objects.filter(pk=slot.pk).update(status=status)
        audit(actor, f"slot.{status}", slot)
        if status == SlotStatus.CLOSED:
            slots_closed.send(TimeSlot, slot_ids=[slot.pk], message=message, actor=actor)
    slot.refresh_from_db()
    return slot


def close_slot(*, actor, slot: TimeSlot, message: str = "") -> TimeSlot:
    """Stop new bookings for a slot; existing bookings stay, and their customers are told
    (`message`: what staff want them to know)."""
    return _set_status(actor, slot, SlotStatus.CLOSED, _message(message))


def open_slot(*, actor, slot: TimeSlot) -> TimeSlot:
    return _set_status(actor, slot, SlotStatus.OPEN)


def _message(text) -> str:
    text = (text or "").strip()
    if len(text) > 300:
        raise DomainError("invalid_input", "A message is 300 characters at most.")
    return text


def close_day(
    *, actor, service: Service, day: dt.date, hall: Hall | None = None, message: str = ""
) -> int:
    """Close every slot of a service (at one hall, or all) that starts on a local day; those
    booked in them are told, with `message`."""
    require_staff(
        actor,
        service.merchant_id,
        MANAGERS,
        hall_id=getattr(hall, "pk", None),
        every_hall=hall is None,
    )
    message = _message(message)
    start, end = local_day_bounds(day, zone(service.merchant.timezone))
    slots = TimeSlot.objects.filter(service=service, starts_at__gte=start, starts_at__lt=end)
    if hall is not None:
        slots = slots.filter(hall=hall)
    with transaction.atomic():
        ids = list(slots.exclude(status=SlotStatus.CLOSED).values_list("pk", flat=True))
        count = slots.update(status=SlotStatus.CLOSED)
        audit(
            actor,
            "slot.close_day",
            service,
            day=day.isoformat(),
            hall=getattr(hall, "pk", None),
            slots=count,
        )
        if ids:
            slots_closed.send(TimeSlot, slot_ids=ids, message=message, actor=actor)
    return count


def slots_between(
    merchant, date_from: dt.date, date_to: dt.date, *, service_id=None, hall_id=None, viewer=None
):
    """A merchant's slots starting on the local days [date_from, date_to], with their service
    and hall; a `viewer` limited to some halls sees only theirs."""
    if not 0 <= (date_to - date_from).days < MAX_RANGE_DAYS:
        raise DomainError("invalid_date_range", max_days=MAX_RANGE_DAYS)
    tz = zone(merchant.timezone)
    lo, _ = local_day_bounds(date_from, tz)
    _, hi = local_day_bounds(date_to, tz)
    qs = TimeSlot.objects.select_related("service", "hall").filter(
        service__merchant_id=merchant.pk, starts_at__gte=lo, starts_at__lt=hi
    )
    if service_id:
        qs = qs.filter(service_id=service_id)
    if hall_id:
        qs = qs.filter(hall_id=hall_id)
    if viewer is not None and (limited := staff_halls(viewer, merchant.pk)) is not None:
        qs = qs.filter(hall_id__in=limited)
    return qs.order_by("starts_at", "id")


def _parse_time(value: Any) -> dt.time:
    try:
        return dt.time.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise DomainError("invalid_input", f"Not a time: {value!r}") from exc


def clean_template_rows(rows: Any) -> list[dict]:
    if not isinstance(rows, list) or not rows or len(rows) > 200:
        raise DomainError("invalid_input", "A template needs 1 to 200 rows.")
    cleaned = []
    for row in rows:
        if not isinstance(row, dict):
            raise DomainError("invalid_input", "Each template row is an object.")
        weekdays = row.get("weekdays", list(range(7)))
        if (
            not isinstance(weekdays, list)
            or not weekdays
            or any(
                not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 6 for d in weekdays
            )
        ):
            raise DomainError("invalid_input", "weekdays are numbers 0 (Monday) to 6 (Sunday).")
        start, end = _parse_time(row.get("start")), _parse_time(row.get("end"))
        if end <= start:
            raise DomainError("invalid_slot_range")
        capacity = row.get("capacity")
        _check_capacity(capacity)
        cleaned.append(
            {
                "weekdays": sorted(set(weekdays)),
                "start": start.strftime("%H:%M"),
                "end": end.strftime("%H:%M"),
                "capacity": capacity,
            }
        )
    return cleaned


def create_template(*, actor, service: Service, hall: Hall, name: str, rows: Any) -> SlotTemplate:
    require_staff(actor, service.merchant_id, MANAGERS, hall_id=hall.pk)
    _hall_service(service, hall)
    rows = clean_template_rows(rows)
    with transaction.atomic():
        template = SlotTemplate.objects.create(
            service=service, hall=hall, name=name[:100], rows=rows
        )
        audit(actor, "slot_template.create", template)
    return template


class FillResult(NamedTuple):
    created: list[TimeSlot]
    skipped: list[dict]  # rows not placed: {"date", "start"} of a start the clocks skip


def fill_slots_from_template(
    *, actor, template: SlotTemplate, date_from: dt.date, date_to: dt.date
) -> FillResult:
    """Create the template's slots on every day of [date_from, date_to] (local dates).

    Slots that would overlap an existing slot of the same service and hall are left out, so
    filling the same range twice creates nothing new. On daylight-saving days (docs/time.md): a
    row whose start the clocks skip is not placed (reported in `skipped`); a start that happens
    twice is its first occurrence; a slot lasts the row's length in real minutes.
    """
    service = template.service
    require_staff(actor, service.merchant_id, MANAGERS, hall_id=template.hall_id)
    days = (date_to - date_from).days + 1
    if days < 1 or days > MAX_FILL_DAYS:
        raise DomainError("invalid_date_range", max_days=MAX_FILL_DAYS)
    tz = zone(service.merchant.timezone)
    wanted = []
    skipped: list[dict] = []
    for i in range(days):
        day = date_from + dt.timedelta(days=i)
        for row in template.rows:
            if day.weekday() not in row["weekdays"]:
                continue
            start, end = _parse_time(row["start"]), _parse_time(row["end"])
            if is_skipped(day, start, tz):  # daylight saving jumps over it (docs/time.md)
                skipped.append({"date": day.isoformat(), "start": row["start"]})
                continue
            starts_at = local_dt(day, start, tz)  # a repeated time: its first occurrence
            minutes = (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)
            wanted.append((starts_at, starts_at + dt.timedelta(minutes=minutes), row["capacity"]))
    if not wanted:
        return FillResult([], skipped)
    lo, hi = min(w[0] for w in wanted), max(w[1] for w in wanted)
    with transaction.atomic():
        existing = list(
            TimeSlot.objects.filter(
                service=service, hall=template.hall, starts_at__lt=hi, ends_at__gt=lo
            ).values_list("starts_at", "ends_at")
        )
        existing.sort()
        new = []
        for start, end, capacity in sorted(wanted):
            if any(s < end and e > start for s, e in existing):
                continue
            new.append(
                TimeSlot(
                    service=service,
                    hall=template.hall,
                    starts_at=start,
                    ends_at=end,
                    capacity=capacity,
                    template=template,
                )
            )
            existing.append((start, end))
        TimeSlot.objects.bulk_create(new, batch_size=500)
        audit(
            actor,
            "slot_template.fill",
            template,
            date_from=date_from.isoformat(),
            date_to=date_to.isoformat(),
            created=len(new),
            skipped=len(skipped),
        )
    return FillResult(new, skipped)


# --- provider time ---------------------------------------------------------------------------


def require_provider_manager(actor, provider: Provider) -> None:
    """The provider themself, a manager of their merchant, or an operator."""
    if getattr(actor, "is_operator", False) or provider.user_id == getattr(actor, "pk", None):
        return
    if provider.merchant_id is None:
        raise DomainError("forbidden")
    require_staff(actor, provider.merchant_id, MANAGERS)


def _within_merchant_hours(actor, provider: Provider, start: dt.time, end: dt.time) -> None:
    """What a provider sets themself lies within the hours their merchant allows (its staff and
    operators may set any)."""
    if provider.user_id != getattr(actor, "pk", None) or provider.merchant_id is None:
        return
    merchant = provider.merchant
    earliest, latest = merchant.provider_hours_start, merchant.provider_hours_end
    if (earliest and start < earliest) or (latest and end > latest):
        raise DomainError(
            "hours_out_of_bounds",
            start=f"{earliest or dt.time(0):%H:%M}",
            end=f"{latest or dt.time(23, 59):%H:%M}",
        )


def set_working_hours(*, actor, provider: Provider, hours: list[dict]) -> list[WorkingHours]:
    """Replace a provider's weekly hours: [{"weekday": 0-6, "start": "08:00", "end": "18:00"}]."""
    require_provider_manager(actor, provider)
    if not isinstance(hours, list) or len(hours) > 50:
        raise DomainError("invalid_hours")
    rows = []
    for item in hours:
        weekday = item.get("weekday") if isinstance(item, dict) else None
        if not isinstance(weekday, int) or isinstance(weekday, bool) or not 0 <= weekday <= 6:
            raise DomainError("invalid_hours")
        start, end = _parse_time(item.get("start")), _parse_time(item.get("end"))
        if end <= start:
            raise DomainError("invalid_hours")
        rows.append(WorkingHours(provider=provider, weekday=weekday, start=start, end=end))
    for a in rows:
        for b in rows:
            if a is not b and a.weekday == b.weekday and a.start < b.end and b.start < a.end:
                raise DomainError("invalid_hours")
    for row in rows:
        _within_merchant_hours(actor, provider, row.start, row.end)
    with transaction.atomic():
        WorkingHours.objects.filter(provider=provider).delete()
        WorkingHours.objects.bulk_create(rows)
        audit(actor, "provider.hours", provider, hours=len(rows))
    return rows


def add_availability_exception(
    *,
    actor,
    provider: Provider,
    date: dt.date,
    start: dt.time,
    end: dt.time,
    kind: str,
    note: str = "",
) -> AvailabilityException:
    require_provider_manager(actor, provider)
    if kind not in ExceptionKind.values or end <= start:
        raise DomainError("invalid_hours")
    if kind == ExceptionKind.EXTRA:
        _within_merchant_hours(actor, provider, start, end)
    with transaction.atomic():
        exc = AvailabilityException.objects.create(
            provider=provider, date=date, start=start, end=end, kind=kind, note=note[:200]
        )
        audit(actor, "provider.exception", provider, date=date.isoformat(), kind=kind)
    return exc


def set_roster(*, actor, providers: list[Provider], hours: list[dict]) -> int:
    """The same weekly hours for many providers at once (a merchant's roster 排班): all of them
    or none, each under the rules of `set_working_hours`."""
    if not providers:
        raise DomainError("invalid_input", "Choose the providers.")
    with transaction.atomic():
        for provider in providers:
            set_working_hours(actor=actor, provider=provider, hours=hours)
    return len(providers)


def add_leave(
    *,
    actor,
    providers: list[Provider],
    date: dt.date,
    start: dt.time,
    end: dt.time,
    note: str = "",
) -> int:
    """The same leave for many providers at once: all of them or none."""
    if not providers:
        raise DomainError("invalid_input", "Choose the providers.")
    with transaction.atomic():
        for provider in providers:
            add_availability_exception(
                actor=actor,
                provider=provider,
                date=date,
                start=start,
                end=end,
                kind=ExceptionKind.LEAVE,
                note=note,
            )
    return len(providers)
