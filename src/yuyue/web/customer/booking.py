"""A service's page: a day strip and the hall slots with places left, the booking form, a call's
length and time; booking them through the same services as the API (orders.placing).
"""

from __future__ import annotations

import datetime as dt
import re

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yuyue.accounts.models import Provider
from yuyue.accounts.tokens import issue_token
from yuyue.catalog.models import FieldType, FormField, Service, ServiceKind
from yuyue.core.errors import DomainError
from yuyue.core.timeutil import zone
from yuyue.orders import waitlist
from yuyue.orders.models import BookingStatus
from yuyue.orders.placing import book_provider, book_slot
from yuyue.pricing import metering
from yuyue.scheduling.availability import hall_availability, provider_availability

from .onsite import _onsite_service
from .views import (
    MAX_PLACES,
    _at,
    _chosen_day,
    _days,
    _mine,
    _rules,
    _service,
    _sign_in_url,
)


def _slots(service: Service, day: dt.date, mine: int | None = None) -> list[dict]:
    tz = zone(service.merchant.timezone)
    out = []
    for row in hall_availability(service=service, date_from=day, date_to=day):
        slot = row["slot"]
        out.append(
            {
                "id": slot.pk,
                "label": f"{_at(slot.starts_at, tz):%H:%M}–{_at(slot.ends_at, tz):%H:%M}",
                "hall": slot.hall.name if slot.hall_id else "",
                "remaining": row["remaining"],
                "bookable": row["bookable"],
                # no place left, but still open: choosing it offers the waiting list
                "waitable": not row["bookable"]
                and row["remaining"] == 0
                and slot.status == "open"
                and timezone.now() < row["deadline"],
                "mine": slot.pk == mine,  # the booking being moved is here now
            }
        )
    return out


PROBLEMS = {  # the booking form's problems (catalog.forms), as the page's language says them
    "required": lambda: _("This field is required."),
    "unknown field": lambda: _("This field is not part of the form."),
    "must be text": lambda: _("Enter text here."),
    "contains characters that are not text": lambda: _("Some characters here are not text."),
    "must be a number": lambda: _("Enter a number."),
    "must be a finite number": lambda: _("Enter a number."),
    "not a valid mobile phone number": lambda: _("Enter a valid mobile phone number."),
    "not a valid resident ID number (GB 11643)": lambda: _(
        "Enter a valid 18-character resident ID number."
    ),
    "not one of the choices": lambda: _("Choose one of the options."),
    "must be a date YYYY-MM-DD": lambda: _("Enter a date."),
}


BOUNDED = [  # problems with a bound in them
    (re.compile(r"at most (\d+) characters"), lambda n: _("At most %(n)s characters.") % {"n": n}),
    (re.compile(r"must be at least (\S+)"), lambda n: _("At least %(n)s.") % {"n": n}),
    (re.compile(r"must be at most (\S+)"), lambda n: _("At most %(n)s.") % {"n": n}),
]


def _problem(text: str) -> str:
    if text in PROBLEMS:
        return PROBLEMS[text]()
    for pattern, say in BOUNDED:
        if m := pattern.fullmatch(text or ""):
            return say(m.group(1))
    return _("Check this field.")


def _field_errors(exc: DomainError) -> dict[str, str]:
    """{"<participant>-<field key>": message} of an `invalid_form` refusal."""
    return {
        f"{e.get('participant', 0)}-{e.get('field')}": _problem(e.get("problem", ""))
        for e in exc.errors or []
    }


def _typed(field: FormField, raw: str):
    """A form field's text as the booking form's answers take it: numbers as numbers (the
    JSON API receives them so); everything else as typed."""
    if field.type == FieldType.NUMBER and raw:
        try:
            number = float(raw.replace(",", "."))
        except ValueError:
            return raw  # refused by the form's own check, with its message
        return int(number) if number.is_integer() else number
    return raw


def service_page(request, service_id: int):
    """A service: what it is, its price and cancellation rules; for a hall slot, a day strip,
    the day's slots with the places left, the number of places and the booking form."""
    service = _service(service_id)
    if service.kind == ServiceKind.REMOTE:
        return _call_service(request, service)
    if service.kind == ServiceKind.ON_SITE:
        return _onsite_service(request, service)
    if service.kind != ServiceKind.HALL_SLOT:
        return render(request, "web/customer/service.html", {"service": service, "slots": None})
    day = _chosen_day(request, service)
    fields = list(FormField.objects.filter(service=service))
    context = {
        "service": service,
        "day": day,
        "days": _days(service, day),
        "slots": _slots(service, day),
        "fields": fields,
        "places": int(request.POST.get("places") or 1) if request.method == "POST" else 1,
        "place_choices": range(1, min(MAX_PLACES, service.per_user_limit or MAX_PLACES) + 1),
        "rules": _rules(service),
        "chosen": request.POST.get("slot") or request.GET.get("slot") or "",
        "answers": {},
        "errors": {},
        "poll_seconds": settings.YUYUE_SLOT_POLL_SECONDS,
        "slots_url": request.path,
    }
    if request.method == "POST":
        if not request.user.is_authenticated:
            return HttpResponseRedirect(_sign_in_url(request))
        return _book(request, service, context)
    part = request.GET.get("part") if request.headers.get("HX-Request") else None
    if part == "slots":  # the slots again (every 10 s): one that filled says so
        return render(request, "web/customer/_slots.html", context)
    if part == "people":  # the number of places changed: a form per person, typed values kept
        try:
            context["places"] = max(1, min(int(request.GET.get("places") or 1), MAX_PLACES))
        except ValueError:
            context["places"] = 1
        context["answers"] = {k: v for k, v in request.GET.items() if "-" in k}
        return render(request, "web/customer/_people.html", context)
    return render(request, "web/customer/service.html", context)


def _book(request, service: Service, context: dict):
    try:
        places = int(request.POST.get("places") or 1)
        slot_id = int(request.POST.get("slot") or 0)
    except ValueError:
        places, slot_id = 0, 0
    context["places"] = max(1, places)
    typed = [
        {f.key: request.POST.get(f"{i}-{f.key}", "").strip() for f in context["fields"]}
        for i in range(max(1, places))
    ]
    context["answers"] = {
        f"{i}-{key}": value for i, a in enumerate(typed) for key, value in a.items()
    }
    answers = [{f.key: _typed(f, a[f.key]) for f in context["fields"]} for a in typed]
    if not slot_id:
        context["error"] = _("Choose a time first.")
        return render(request, "web/customer/service.html", context, status=400)
    participants = [{"answers": a} for a in answers] if context["fields"] else None
    if request.POST.get("action") == "wait":  # the slot is full: wait for a place in it
        try:
            waitlist.join_waitlist(
                actor=request.user, slot_id=slot_id, places=places, participants=participants
            )
        except DomainError as exc:
            context["error"] = exc.message()
            context["errors"] = _field_errors(exc) if exc.code == "invalid_form" else {}
            context["slots"] = _slots(service, context["day"])
            return render(request, "web/customer/service.html", context, status=exc.status)
        return HttpResponseRedirect(reverse("customer:bookings") + "?waiting=1")
    try:
        booking = book_slot(
            actor=request.user, slot_id=slot_id, places=places, participants=participants
        )
    except DomainError as exc:
        if exc.code == "slot_full":
            context["can_wait"] = True
        if exc.code == "invalid_form":
            context["errors"] = _field_errors(exc)
            context["error"] = _("Please correct the fields marked below.")
        else:
            context["error"] = exc.message()
        context["slots"] = _slots(service, context["day"])  # what is left now
        return render(request, "web/customer/service.html", context, status=exc.status)
    target = (
        "customer:pay" if booking.status == BookingStatus.AWAITING_PAYMENT else "customer:booking"
    )
    return HttpResponseRedirect(reverse(target, args=[booking.pk]))


# --- a service at the customer's place ----------------------------------------------------------


def _call_service(request, service: Service):
    """A timed call: the day's consultants with their rate and free starts, a length in the
    service's steps, what it may cost; booked by `book_provider` (billed by the meter after)."""
    rules = metering.rules_from(service.call_rules)
    day = _chosen_day(request, service)
    tz = zone(service.merchant.timezone)
    lengths = list(
        range(service.step_minutes, min(rules.max_minutes, 120) + 1, service.step_minutes)
    )
    try:
        minutes = int(request.POST.get("minutes") or request.GET.get("minutes") or lengths[0])
    except ValueError:
        minutes = lengths[0]
    rates = dict(Provider.objects.filter(services=service).values_list("pk", "rate_per_minute_fen"))
    consultants = []
    for row in provider_availability(service=service, day=day, limit=20):
        rate = rates.get(row["provider_id"]) or service.base_price_fen
        row["starts"] = _long_enough(row["starts"], minutes, service)
        consultants.append(
            {
                "id": row["provider_id"],
                "name": row["name"],
                "rate": rate,
                "most": metering.charge(minutes * 60, rate, rules),
                "starts": [
                    {
                        "value": f"{row['provider_id']}|{t.isoformat()}",
                        "label": f"{_at(t, tz):%H:%M}",
                    }
                    for t in row["starts"]
                ],
            }
        )
    context = {
        "service": service,
        "rules": rules,
        "day": day,
        "days": _days(service, day, minutes=minutes),
        "lengths": lengths,
        "minutes": minutes,
        "consultants": consultants,
        "chosen": request.POST.get("start", ""),
    }
    if request.method == "POST":
        if not request.user.is_authenticated:
            return HttpResponseRedirect(_sign_in_url(request))
        try:
            provider_id, _sep, starts = context["chosen"].partition("|")
            if not starts:
                raise DomainError("invalid_input", _("Choose a consultant and a time first."))
            booking = book_provider(
                actor=request.user,
                service_id=service.pk,
                provider_id=int(provider_id),
                starts_at=dt.datetime.fromisoformat(starts),
                minutes=minutes,
            )
        except (DomainError, ValueError) as exc:
            context["error"] = exc.message() if isinstance(exc, DomainError) else _("Try again.")
            status = exc.status if isinstance(exc, DomainError) else 400
            return render(request, "web/customer/call_service.html", context, status=status)
        return HttpResponseRedirect(reverse("customer:booking", args=[booking.pk]))
    return render(request, "web/customer/call_service.html", context)


def _long_enough(starts: list[dt.datetime], minutes: int, service: Service) -> list[dt.datetime]:
    """The starts from which a call of `minutes` is free throughout: availability gives the
    starts of the service's own length, so a longer call needs each later start it covers."""
    free = set(starts)
    extra = max(0, minutes - service.duration_minutes)
    steps = range(0, extra + 1, service.step_minutes)
    return [t for t in starts if all(t + dt.timedelta(minutes=k) in free for k in steps)]


@login_required(login_url="customer:sign-in")
@require_POST
def join_call(request, booking_id: int):
    """Into the call's room: the room signs in with a bearer token, given to this page's holder
    in the address's fragment (never sent to a server, never in a log)."""
    booking = _mine(request, booking_id)
    if booking.channel != "call":
        raise Http404
    key, _token = issue_token(user=request.user, via="page")
    return HttpResponseRedirect(f"{reverse('call', args=[booking.pk])}#token={key}")


# --- paying -------------------------------------------------------------------------------------
