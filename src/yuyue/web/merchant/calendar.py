"""A hall's week of slots for one service: each slot's places booked, cancelled by customers,
cancelled by staff and left; managers change a slot's capacity (never below what is booked),
close a slot or a whole day with a message to those booked, open it again, fill a range of days
from a template and write templates. The scheduling services the staff API calls."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yuyue.accounts.auth import MANAGERS, staff_halls
from yuyue.catalog.models import Hall, Service, ServiceKind
from yuyue.core.errors import DomainError
from yuyue.scheduling import services as calendars
from yuyue.scheduling.models import SlotTemplate, TimeSlot
from yuyue.web.helpers import week_start

from .desk import Desk, desk_page
from .views import _flash


def _choices(request, desk: Desk):
    services = list(
        Service.objects.filter(merchant=desk.merchant, kind=ServiceKind.HALL_SLOT).order_by("name")
    )
    halls = Hall.objects.filter(merchant=desk.merchant, active=True).order_by("name")
    if (limited := staff_halls(request.user, desk.merchant.pk)) is not None:
        halls = halls.filter(pk__in=limited)
    return services, list(halls)


def _pick(items, wanted):
    return next((i for i in items if str(i.pk) == str(wanted)), items[0] if items else None)


def _back(service_id, hall_id, week) -> HttpResponseRedirect:
    query = urlencode({"service": service_id, "hall": hall_id, "week": f"{week:%Y-%m-%d}"})
    return HttpResponseRedirect(f"{reverse('merchant:calendar')}?{query}")


@desk_page
def calendar(request, desk: Desk):
    services, halls = _choices(request, desk)
    service = _pick(services, request.GET.get("service"))
    hall = _pick(halls, request.GET.get("hall"))
    today = timezone.now().astimezone(desk.tz).date()
    monday = week_start(request.GET.get("week"), today)
    days = [monday + dt.timedelta(days=i) for i in range(7)]
    by_day: dict[dt.date, list[TimeSlot]] = {d: [] for d in days}
    templates = []
    if service and hall:
        for slot in calendars.slots_between(
            desk.merchant,
            monday,
            days[-1],
            service_id=service.pk,
            hall_id=hall.pk,
            viewer=request.user,
        ):
            slot.local_start = slot.starts_at.astimezone(desk.tz)
            slot.local_end = slot.ends_at.astimezone(desk.tz)
            by_day[slot.local_start.date()].append(slot)
        templates = list(SlotTemplate.objects.filter(service=service, hall=hall).order_by("name"))
    return render(
        request,
        "web/merchant/calendar.html",
        {
            "desk": desk,
            "services": services,
            "halls": halls,
            "service": service,
            "hall": hall,
            "monday": monday,
            "days": [(d, by_day[d]) for d in days],
            "today": today,
            "previous": monday - dt.timedelta(days=7),
            "next": monday + dt.timedelta(days=7),
            "templates": templates,
            "may_change": desk.full,
            "flash": request.session.pop("flash", None),
            "weekdays": range(7),
        },
    )


@desk_page(roles=MANAGERS)
@require_POST
def slot(request, desk: Desk, slot_id: int):
    found = (
        TimeSlot.objects.select_related("service", "hall")
        .filter(pk=slot_id, service__merchant=desk.merchant)
        .first()
    )
    if found is None:
        raise Http404
    action = request.POST.get("action")
    try:
        if action == "capacity":
            raw = (request.POST.get("capacity") or "").strip()
            if raw and not raw.isdigit():
                raise DomainError("invalid_input", "Capacity is a whole number.")
            calendars.set_slot_capacity(
                actor=request.user, slot=found, capacity=int(raw) if raw else None
            )
            _flash(request, _("Capacity saved."))
        elif action == "close":
            calendars.close_slot(
                actor=request.user, slot=found, message=request.POST.get("message", "")
            )
            _flash(request, _("Slot closed; those booked are told."))
        elif action == "open":
            calendars.open_slot(actor=request.user, slot=found)
            _flash(request, _("Slot open again."))
    except DomainError as exc:
        _flash(request, exc.message(), "error")
    week = week_start(f"{found.starts_at.astimezone(desk.tz):%Y-%m-%d}", found.starts_at.date())
    return _back(found.service_id, found.hall_id, week)


def _service_and_hall(request, desk: Desk):
    services, halls = _choices(request, desk)
    service = next((s for s in services if str(s.pk) == request.POST.get("service")), None)
    hall = Hall.objects.filter(merchant=desk.merchant, pk=request.POST.get("hall") or 0).first()
    if service is None or hall is None:
        raise Http404
    return service, hall


@desk_page(roles=MANAGERS)
@require_POST
def close_day(request, desk: Desk):
    service, hall = _service_and_hall(request, desk)
    day = week_start(request.POST.get("date"), timezone.now().date())
    try:
        date = dt.date.fromisoformat(request.POST.get("date") or "")
        n = calendars.close_day(
            actor=request.user,
            service=service,
            day=date,
            hall=hall,
            message=request.POST.get("message", ""),
        )
    except ValueError:
        _flash(request, _("Choose a day."), "error")
    except DomainError as exc:
        _flash(request, exc.message(), "error")
    else:
        _flash(request, _("%(n)s slots closed; those booked are told.") % {"n": n})
    return _back(service.pk, hall.pk, day)


@desk_page(roles=MANAGERS)
@require_POST
def fill(request, desk: Desk):
    service, hall = _service_and_hall(request, desk)
    template = SlotTemplate.objects.filter(
        pk=request.POST.get("template") or 0, service=service, hall=hall
    ).first()
    week = week_start(request.POST.get("date_from"), timezone.now().date())
    try:
        if template is None:
            raise DomainError("not_found")
        result = calendars.fill_slots_from_template(
            actor=request.user,
            template=template,
            date_from=dt.date.fromisoformat(request.POST.get("date_from") or ""),
            date_to=dt.date.fromisoformat(request.POST.get("date_to") or ""),
        )
    except ValueError:
        _flash(request, _("Choose the first and the last day."), "error")
    except DomainError as exc:
        _flash(request, exc.message(), "error")
    else:
        _flash(request, _("%(n)s slots made.") % {"n": len(result.created)})
    return _back(service.pk, hall.pk, week)


@desk_page(roles=MANAGERS)
@require_POST
def new_template(request, desk: Desk):
    """A template from the form's rows (days ticked, start, end, places; empty rows left out)."""
    service, hall = _service_and_hall(request, desk)
    rows = []
    for i in range(4):
        start, end = request.POST.get(f"start-{i}"), request.POST.get(f"end-{i}")
        if not start and not end:
            continue
        places = (request.POST.get(f"capacity-{i}") or "").strip()
        rows.append(
            {
                "weekdays": [int(d) for d in request.POST.getlist(f"days-{i}") if d.isdigit()],
                "start": start,
                "end": end,
                "capacity": int(places) if places.isdigit() else None,
            }
        )
    try:
        calendars.create_template(
            actor=request.user,
            service=service,
            hall=hall,
            name=(request.POST.get("name") or "").strip() or _("Week"),
            rows=rows,
        )
    except DomainError as exc:
        _flash(request, exc.message(), "error")
    else:
        _flash(request, _("Template saved: fill a range of days with it."))
    return _back(service.pk, hall.pk, week_start(request.POST.get("week"), timezone.now().date()))
