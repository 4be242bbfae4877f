"""An on-site service's page: the address, the options, the free times the platform can serve and
the quote with its lines; ordering through dispatch.ordering like the API.
"""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yuyue.accounts.profile import default_address
from yuyue.catalog.models import Service
from yuyue.catalog.places import area_point, areas
from yuyue.core.errors import DomainError
from yuyue.core.timeutil import zone
from yuyue.dispatch.ordering import place_onsite_order
from yuyue.orders.models import Booking, PaymentStatus
from yuyue.pricing.prices import make_quote, unit_price
from yuyue.pricing.prices import price as price_of
from yuyue.scheduling.availability import provider_availability

from .views import _at, _chosen_day, _days, _rules, _sign_in_url


def _point(request) -> tuple[float, float] | None:
    """Where the customer is: the browser's location (lat, lng), else the centre of the area
    they chose (`area`)."""
    try:
        lat = float(request.POST.get("lat") or request.GET.get("lat") or "")
        lng = float(request.POST.get("lng") or request.GET.get("lng") or "")
    except ValueError:
        chosen = area_point(request.POST.get("area") or request.GET.get("area"))
        return chosen[:2] if chosen else None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    return lat, lng


QUOTE_LINES = {  # a quote's lines (pricing.prices.price) as a customer reads them
    "base": lambda: _("Service"),
    "area": lambda: _("Area"),
    "people": lambda: _("Extra people"),
    "peak": lambda: _("Peak hours"),
    "weekend": lambda: _("Weekend"),
    "holiday": lambda: _("Public holiday"),
    "travel": lambda: _("Travel"),
    "calendar_unknown": lambda: _("Holidays of that year are not known yet"),
}


def _onsite_options(request, service: Service) -> tuple[dict, dict]:
    """The options the service is priced by (area in m², people), as typed and as priced."""
    data = request.POST if request.method == "POST" else request.GET
    rules = service.pricing or {}
    typed, options = {}, {}
    if rules.get("per_m2_fen"):
        typed["area_m2"] = data.get("area_m2", "").strip()
        if typed["area_m2"]:
            try:
                options["area_m2"] = int(typed["area_m2"])
            except ValueError:
                options["area_m2"] = typed["area_m2"]  # refused by the quote, with its message
    if rules.get("per_person_fen"):
        typed["people"] = data.get("people", "1")
        try:
            options["people"] = int(typed["people"])
        except ValueError:
            options["people"] = 1
    return typed, options


def _onsite_service(request, service: Service):
    """At the customer's place: where (the browser's location or a chosen district), the
    options the service is priced by, then the day's times at which some provider can come
    there, each at its price, the chosen one's quote line by line (peak hours, weekend, public
    holiday, travel), the address, and the order at the quote's price; the platform finds the
    provider (`pricing.prices.make_quote` and `dispatch.ordering.place_onsite_order`, the API's
    own)."""
    point = _point(request)
    day = _chosen_day(request, service)
    tz = zone(service.merchant.timezone)
    typed, options = _onsite_options(request, service)
    data = request.POST if request.method == "POST" else request.GET
    keep = {"lat": point[0], "lng": point[1]} if point else {}
    context = {
        "service": service,
        "point": point,
        "day": day,
        "days": _days(service, day, **keep, **{k: v for k, v in typed.items() if v}),
        "rules": _rules(service),
        "typed": typed,
        "address": request.POST.get("address", "") or _default_address_text(request),
        "saved": default_address(request.user),
        "areas": areas() if point is None else [],
        "notes": request.POST.get("notes", ""),
        "chosen": data.get("start", ""),
        "times": [],
    }
    if point is not None:
        _priced_times(context, service, day, point, options, tz)
    if request.htmx and request.GET.get("part") == "quote":
        return render(request, "web/customer/_quote.html", context)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return HttpResponseRedirect(_sign_in_url(request))
        try:
            booking = _order(request, service, point, options, context)
        except DomainError as exc:
            context["error"] = exc.message()
            return render(request, "web/customer/onsite_service.html", context, status=exc.status)
        unpaid = booking.payment_status == PaymentStatus.UNPAID
        return HttpResponseRedirect(
            reverse("customer:pay" if unpaid else "customer:booking", args=[booking.pk])
        )
    return render(request, "web/customer/onsite_service.html", context)


def _priced_times(context: dict, service: Service, day, point, options: dict, tz) -> None:
    """The day's times some provider can come at, each at its price, and the chosen one's quote
    line by line (an option out of bounds is said, and the times priced without it)."""
    free = provider_availability(service=service, day=day, lat=point[0], lng=point[1], limit=50)
    starts = sorted({t for row in free for t in row["starts"]})
    # a unit's price is the price list's of the (local) day: one look-up for all its starts
    unit = unit_price(service, starts[0]) if starts else None
    try:
        if not starts:  # the options are checked even on a day with no time free
            price_of(service, starts_at=timezone.now(), options=options)
        priced = [price_of(service, starts_at=t, options=options, unit=unit) for t in starts]
    except DomainError as exc:  # an option out of bounds: said, and priced without it
        context["option_error"] = exc.message()
        priced = [price_of(service, starts_at=t, unit=unit) for t in starts]
    context["times"] = [
        {"value": t.isoformat(), "label": _at(t, tz).strftime("%H:%M"), "price": total}
        for t, (total, _lines) in zip(starts, priced, strict=True)
    ]
    chosen = next((i for i, t in enumerate(starts) if t.isoformat() == context["chosen"]), None)
    if chosen is not None and "option_error" not in context:
        total, lines = price_of(
            service, starts_at=starts[chosen], options=options, lat=point[0], lng=point[1]
        )
        context["quote"] = {"total": total, "lines": _quote_lines(lines)}


def _order(request, service: Service, point, options: dict, context: dict) -> Booking:
    """The order at the chosen time's quote (`make_quote`, then `place_onsite_order`)."""
    if point is None:
        raise DomainError("invalid_input", _("Share where you are first."))
    if not context["chosen"]:
        raise DomainError("invalid_input", _("Choose a time first."))
    if context["notes"].strip():
        options["notes"] = context["notes"].strip()[:300]
    starts_at = dt.datetime.fromisoformat(context["chosen"])
    quote = make_quote(
        actor=request.user,
        service_id=service.pk,
        starts_at=starts_at,
        options=options,
        lat=point[0],
        lng=point[1],
    )
    return place_onsite_order(
        actor=request.user,
        service_id=service.pk,
        starts_at=starts_at,
        address=context["address"],
        lat=point[0],
        lng=point[1],
        quote_id=quote.pk,
    )


def _quote_lines(lines: list[dict]) -> list[dict]:
    out = []
    for line in lines:
        say = QUOTE_LINES.get(line["item"])
        label = say() if say else line["item"]
        if line["item"] == "travel":
            label = _("Travel (%(km)s km)") % {"km": line.get("km")}
        out.append({"label": label, "fen": line["fen"], "item": line["item"]})
    return out


def _default_address_text(request) -> str:
    """What an order's address field starts with: the customer's default address, if any."""
    if request.method == "POST":
        return ""
    saved = default_address(request.user)
    return saved.address if saved else ""


# --- a voice consultation ------------------------------------------------------------------------
