"""The merchant's services: the list and a new one; a service's basics (name, description,
duration, price, steps, places); its booking form built field by field (type, required, choices,
order); its price and refund rules as forms, with the quotes they give previewed before saving.
The services the staff API calls (`catalog.services`, `pricing.rules`)."""

from __future__ import annotations

import re

from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yuyue.accounts.auth import MANAGERS
from yuyue.catalog import services as catalog
from yuyue.catalog.models import FieldType, Service, ServiceKind
from yuyue.core.errors import DomainError
from yuyue.pricing import rules as price_rules
from yuyue.web.amounts import yuan_to_fen
from yuyue.web.helpers import uploaded_pictures

from .desk import Desk, desk_page
from .views import _flash

KINDS = {
    ServiceKind.HALL_SLOT: lambda: _("Places in a hall's time slots"),
    ServiceKind.ON_SITE: lambda: _("At the customer's address"),
    ServiceKind.REMOTE: lambda: _("A timed call"),
}
FIELD_TYPES = {
    FieldType.TEXT: lambda: _("Text"),
    FieldType.NUMBER: lambda: _("Number"),
    FieldType.PHONE: lambda: _("Mobile number"),
    FieldType.ID_NUMBER: lambda: _("ID card number"),
    FieldType.CHOICE: lambda: _("One of some choices"),
    FieldType.DATE: lambda: _("Date"),
}
QUOTE_KINDS = {
    "workday": lambda: _("A weekday"),
    "peak": lambda: _("In the peak hours"),
    "weekend": lambda: _("A weekend day"),
    "holiday": lambda: _("A public holiday"),
}
LINES = {
    "base": lambda: _("Price"),
    "peak": lambda: _("Peak hours"),
    "weekend": lambda: _("Weekend"),
    "holiday": lambda: _("Public holiday"),
    "calendar_unknown": lambda: _("Holiday calendar not known yet"),
}
BLANK_FIELDS = 3


def _mine(desk: Desk, service_id: int) -> Service:
    service = Service.objects.filter(pk=service_id, merchant=desk.merchant).first()
    if service is None:
        raise Http404
    return service


def _back(name: str, service: Service):
    return HttpResponseRedirect(reverse(name, args=[service.pk]))


def whole(raw, default=None):
    raw = (raw or "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        raise DomainError("invalid_input", _("Whole numbers only."))
    return int(raw)


def _fen(raw):
    raw = (raw or "").strip()
    if not raw or raw == "0":
        return 0
    fen = yuan_to_fen(raw)
    if fen is None:
        raise DomainError("invalid_amount", max=10**9)
    return fen


@desk_page(roles=MANAGERS)
def service_list(request, desk: Desk):
    if request.method == "POST":
        try:
            service = catalog.create_service(
                actor=request.user,
                merchant=desk.merchant,
                name=(request.POST.get("name") or "").strip()[:200],
                kind=request.POST.get("kind") or "",
                duration_minutes=whole(request.POST.get("duration"), 60),
                base_price_fen=_fen(request.POST.get("price")),
            )
        except DomainError as exc:
            _flash(request, exc.message(), "error")
            return HttpResponseRedirect(reverse("merchant:services"))
        _flash(request, _("Service made: now its form and its rules."))
        return _back("merchant:service", service)
    return render(
        request,
        "web/merchant/services.html",
        {
            "desk": desk,
            "rows": Service.objects.filter(merchant=desk.merchant).order_by("-active", "name"),
            "kinds": [(k, say()) for k, say in KINDS.items()],
            "flash": request.session.pop("flash", None),
        },
    )


@desk_page(roles=MANAGERS)
@require_POST
def photos(request, desk: Desk, service_id: int):
    """Add pictures of the service, or remove one (`catalog.store`)."""
    from yuyue.catalog import store

    s = _mine(desk, service_id)
    try:
        if request.POST.get("remove"):
            store.remove_service_photo(
                actor=request.user, service=s, photo_id=int(request.POST["remove"])
            )
        else:
            for data in uploaded_pictures(request, "photos"):
                store.add_service_photo(actor=request.user, service=s, data=data)
    except (DomainError, ValueError) as exc:
        _flash(request, exc.message() if isinstance(exc, DomainError) else str(exc), "error")
    else:
        _flash(request, _("Pictures saved."))
    return _back("merchant:service", s)


@desk_page(roles=MANAGERS)
def service(request, desk: Desk, service_id: int):
    s = _mine(desk, service_id)
    if request.method == "POST":
        try:
            catalog.update_service(
                actor=request.user,
                service=s,
                name=(request.POST.get("name") or "").strip()[:200],
                description=(request.POST.get("description") or "").strip()[:5000],
                duration_minutes=whole(request.POST.get("duration"), s.duration_minutes),
                step_minutes=whole(request.POST.get("step"), s.step_minutes),
                base_price_fen=_fen(request.POST.get("price")),
                max_places_per_booking=whole(request.POST.get("max_places"), 1),
                active=bool(request.POST.get("active")),
            )
        except DomainError as exc:
            _flash(request, exc.message(), "error")
        else:
            _flash(request, _("Saved."))
        return _back("merchant:service", s)
    return render(
        request,
        "web/merchant/service.html",
        {
            "desk": desk,
            "s": s,
            "kind": KINDS[s.kind](),
            "here": "basics",
            "flash": request.session.pop("flash", None),
        },
    )


def _key_for(label: str, taken: set[str]) -> str:
    """A field's key from its label (letters and digits), unique in the form."""
    base = re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:30] or "field"
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    return key


@desk_page(roles=MANAGERS)
def form_editor(request, desk: Desk, service_id: int):
    """The booking form: each row a question (label, type, required, choices, order); a row
    ticked for removal or left without a label is dropped; keys of kept rows never change, so
    answers already given keep their meaning."""
    s = _mine(desk, service_id)
    fields = list(s.form_fields.order_by("position", "pk"))
    if request.method == "POST":
        rows, taken = [], {f.key for f in fields}
        for i in range(len(fields) + BLANK_FIELDS):
            label = (request.POST.get(f"label-{i}") or "").strip()[:100]
            if not label or request.POST.get(f"remove-{i}"):
                continue
            key = request.POST.get(f"key-{i}") or ""
            if key not in {f.key for f in fields}:
                key = _key_for(label, taken)
                taken.add(key)
            choices = [
                c.strip()
                for c in re.split(r"[\n,，、]", request.POST.get(f"choices-{i}") or "")
                if c.strip()
            ]
            try:
                order = int(request.POST.get(f"order-{i}") or i + 1)
            except ValueError:
                order = i + 1
            rows.append(
                (
                    order,
                    i,
                    {
                        "key": key,
                        "label": label,
                        "type": request.POST.get(f"type-{i}") or "",
                        "required": bool(request.POST.get(f"required-{i}")),
                        "choices": choices[:50],
                    },
                )
            )
        try:
            catalog.set_form_fields(
                actor=request.user,
                service=s,
                fields=[r for _o, _i, r in sorted(rows, key=lambda r: r[:2])],
            )
        except DomainError as exc:
            _flash(request, exc.message(), "error")
        else:
            _flash(request, _("Form saved."))
        return _back("merchant:service-form", s)
    return render(
        request,
        "web/merchant/service_form.html",
        {
            "desk": desk,
            "s": s,
            "here": "form",
            "fields": fields,
            "blank": range(len(fields), len(fields) + BLANK_FIELDS),
            "types": [(k, say()) for k, say in FIELD_TYPES.items()],
            "flash": request.session.pop("flash", None),
        },
    )


def _rules_from(post) -> tuple[dict, dict]:
    """The price and refund rules a rules form holds, as the services take them."""
    peaks = []
    for i in range(3):
        start, end = post.get(f"peak-start-{i}"), post.get(f"peak-end-{i}")
        if start or end:
            peaks.append(
                {"start": start, "end": end, "percent": whole(post.get(f"peak-percent-{i}"), 0)}
            )
    pricing = {
        "peak": peaks,
        "weekend_percent": whole(post.get("weekend_percent"), 0),
        "holiday_percent": whole(post.get("holiday_percent"), 0),
        "per_m2_fen": _fen(post.get("per_m2")),
        "per_person_fen": _fen(post.get("per_person")),
        "per_km_fen": _fen(post.get("per_km")),
        "free_km": whole(post.get("free_km"), 0),
    }
    refunds = {
        "free_hours": whole(post.get("free_hours"), 0),
        "fee_percent": whole(post.get("fee_percent"), 0),
        "travel_fee_fen": _fen(post.get("travel_fee")),
        "no_show_percent": whole(post.get("no_show_percent"), 100),
    }
    return pricing, refunds


def _quotes(desk: Desk, s: Service, pricing: dict) -> list[dict]:
    out = price_rules.preview(s, pricing)
    for q in out:
        q["label"] = QUOTE_KINDS[q["kind"]]()
        q["local"] = q["at"].astimezone(desk.tz)
        for line in q["lines"]:
            line["label"] = LINES.get(line["item"], lambda item=line["item"]: item)()
    return out


@desk_page(roles=MANAGERS)
def rules(request, desk: Desk, service_id: int):
    s = _mine(desk, service_id)
    if request.method == "POST":
        try:
            pricing, refunds = _rules_from(request.POST)
            price_rules.set_service_rules(
                actor=request.user, service=s, pricing=pricing, refund_rules=refunds
            )
        except DomainError as exc:
            _flash(request, exc.message(), "error")
        else:
            _flash(request, _("Rules saved."))
        return _back("merchant:service-rules", s)
    pricing, refunds = s.pricing or {}, s.refund_rules or {}
    peaks = list(pricing.get("peak") or [])
    return render(
        request,
        "web/merchant/service_rules.html",
        {
            "desk": desk,
            "s": s,
            "here": "rules",
            "p": pricing,
            "r": refunds,
            "peaks": [peaks[i] if i < len(peaks) else {} for i in range(3)],
            "quotes": _quotes(desk, s, pricing),
            "flash": request.session.pop("flash", None),
        },
    )


@desk_page(roles=MANAGERS)
@require_POST
def rules_preview(request, desk: Desk, service_id: int):
    """The quotes the rules being typed would give (htmx, nothing saved)."""
    s = _mine(desk, service_id)
    try:
        pricing, _refunds = _rules_from(request.POST)
        quotes, error = _quotes(desk, s, pricing), None
    except DomainError as exc:
        quotes, error = [], exc.message()
    return render(request, "web/merchant/_quotes.html", {"quotes": quotes, "error": error, "s": s})
