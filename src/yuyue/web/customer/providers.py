"""Choosing a provider for a service at the customer's place: filter and sort the providers who
do it, a provider's page with their free times, and booking them for an address.

The list is `scheduling.providers.search_providers` (the API's `GET /api/providers`), the page
`scheduling.providers.provider_profile`, the order `orders.placing.book_provider` (the API's
`POST /api/provider-bookings`): no rule is written twice.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from yuyue.catalog.models import ServiceKind
from yuyue.core.errors import DomainError
from yuyue.core.timeutil import zone
from yuyue.engagement.reviews import published_reviews
from yuyue.orders.models import PaymentStatus
from yuyue.orders.placing import book_provider
from yuyue.pricing.prices import chosen_unit_price
from yuyue.scheduling.providers import SORTS, provider_profile, search_providers

from .onsite import _default_address_text, _point
from .views import (
    _at,
    _chosen_day,
    _days,
    _rules,
    _service,
    _sign_in_url,
)

AGES = {  # the age choices of the filter: (youngest, oldest)
    "": (None, None),
    "u30": (None, 29),
    "30-45": (30, 45),
    "45-60": (45, 60),
    "60+": (60, None),
}
AGE_LABELS = {
    "": gettext_lazy("Any age"),
    "u30": gettext_lazy("Under 30"),
    "30-45": gettext_lazy("30 to 45"),
    "45-60": gettext_lazy("45 to 60"),
    "60+": gettext_lazy("60 and over"),
}
EXPERIENCE = (0, 1, 3, 5, 10)
RATINGS = ("", "4", "4.5", "4.8")
SORT_LABELS = {
    "rating": gettext_lazy("Best rated"),
    "distance": gettext_lazy("Nearest"),
    "price": gettext_lazy("Lowest price"),
    "experience": gettext_lazy("Most experienced"),
}
GENDER_LABELS = {
    "female": gettext_lazy("Woman"),
    "male": gettext_lazy("Man"),
    "undisclosed": "",
}


def _int(raw: str | None, choices=None) -> int | None:
    try:
        value = int(raw or "")
    except ValueError:
        return None
    return value if choices is None or value in choices else None


def _filters(request) -> dict:
    """The filter form's choices as typed, each kept within what the form offers."""
    q = request.GET
    price = (q.get("price_max") or "").strip()
    try:
        price_fen = round(float(price) * 100) if price else None
    except (ValueError, OverflowError):  # not a number, or infinite
        price_fen = None
    return {
        "gender": q.get("gender") if q.get("gender") in ("female", "male") else "",
        "age": q.get("age") if q.get("age") in AGES else "",
        "experience": _int(q.get("experience"), EXPERIENCE) or 0,
        "rating": q.get("rating") if q.get("rating") in RATINGS else "",
        "price_max": price if price_fen is not None and price_fen >= 0 else "",
        "price_fen": price_fen if price_fen is not None and price_fen >= 0 else None,
        "sort": q.get("sort") if q.get("sort") in SORTS else "rating",
    }


def providers_page(request, service_id: int):
    """The providers who do this service: filter by gender, age, experience, price and rating,
    sorted by rating, distance (with the browser's location), price or experience."""
    service = _service(service_id)
    if service.kind != ServiceKind.ON_SITE:
        raise Http404
    f = _filters(request)
    point = _point(request)
    if f["sort"] == "distance" and point is None:
        f["sort"] = "rating"  # nearest needs a location: the page asks for it
        f["needs_location"] = True
    youngest, oldest = AGES[f["age"]]
    rows = search_providers(
        service_id=service.pk,
        gender=f["gender"] or None,
        age_min=youngest,
        age_max=oldest,
        experience_min=f["experience"] or None,
        price_max_fen=f["price_fen"],
        rating_min=float(f["rating"]) if f["rating"] else None,
        lat=point[0] if point else None,
        lng=point[1] if point else None,
        sort=f["sort"],
        limit=50,
    )
    for row in rows:
        row["gender_label"] = GENDER_LABELS.get(row["gender"], "")
        where = {"service": service.pk, **({"lat": point[0], "lng": point[1]} if point else {})}
        row["href"] = reverse("customer:provider", args=[row["id"]]) + "?" + urlencode(where)
    context = {
        "service": service,
        "f": f,
        "point": point,
        "rows": rows,
        "ages": AGE_LABELS.items(),
        "experience_choices": EXPERIENCE,
        "ratings": RATINGS[1:],
        "sorts": SORT_LABELS.items(),
    }
    if request.htmx:  # a filter changed: the list again
        return render(request, "web/customer/_provider_list.html", context)
    return render(request, "web/customer/providers.html", context)


def provider_page(request, provider_id: int):
    """A provider: who they are (experience, rating, verified credentials, what they do), and
    for the chosen service their free times of a day, booked for an address."""
    try:
        sid = int(request.GET.get("service") or request.POST.get("service") or 0) or None
    except ValueError:
        sid = None
    try:
        profile = provider_profile(provider_id=provider_id)
    except DomainError as exc:
        raise Http404 from exc
    provider = profile["provider"]
    offered = [s for s in provider.services.all() if s.active]
    service = next((s for s in offered if s.pk == sid), None)
    if service is None:  # the first on-site service they do, if any
        service = next((s for s in offered if s.kind == ServiceKind.ON_SITE), None)
    context = {
        "p": profile,
        "provider": provider,
        "gender_label": GENDER_LABELS.get(profile["gender"], ""),
        "services": offered,
        "service": service,
        "reviews": published_reviews(provider_id=provider.pk, limit=10),
    }
    if service is None or service.kind != ServiceKind.ON_SITE:
        return render(request, "web/customer/provider.html", context)
    service = _service(service.pk)  # with its merchant, and only if it can be booked
    tz = zone(provider.zone_name)
    day = _chosen_day(request, service)
    point = _point(request)
    keep = {"service": service.pk, **({"lat": point[0], "lng": point[1]} if point else {})}
    free = provider_profile(provider_id=provider.pk, service_id=service.pk, date=day)
    starts = free["free_starts"]
    # a unit's price is the provider's own, or the price list's of the (local) day: one look-up
    price = chosen_unit_price(service, provider, starts[0]) if starts else profile["price_fen"]
    context.update(
        service=service,
        day=day,
        days=_days(service, day, **keep),
        point=point,
        rules=_rules(service),
        times=[
            {"value": t.isoformat(), "label": f"{_at(t, tz):%H:%M}", "price": price} for t in starts
        ],
        chosen=request.POST.get("start", ""),
        address=request.POST.get("address", "") or _default_address_text(request),
        notes=request.POST.get("notes", ""),
    )
    if request.method == "POST":
        if not request.user.is_authenticated:
            return HttpResponseRedirect(_sign_in_url(request))
        try:
            if not context["chosen"]:
                raise DomainError("invalid_input", _("Choose a time first."))
            try:
                starts_at = dt.datetime.fromisoformat(context["chosen"])
            except ValueError as exc:
                raise DomainError("invalid_input", _("Choose a time first.")) from exc
            booking = book_provider(
                actor=request.user,
                service_id=service.pk,
                provider_id=provider.pk,
                starts_at=starts_at,
                address=context["address"],
                lat=point[0] if point else None,
                lng=point[1] if point else None,
                notes=request.POST.get("notes", "")[:500],
            )
        except DomainError as exc:
            context["error"] = exc.message()
            context["address_error"] = exc.code == "address_required"
            return render(request, "web/customer/provider.html", context, status=exc.status)
        unpaid = booking.payment_status == PaymentStatus.UNPAID
        return HttpResponseRedirect(
            reverse("customer:pay" if unpaid else "customer:booking", args=[booking.pk])
        )
    return render(request, "web/customer/provider.html", context)
