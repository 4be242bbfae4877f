"""The store page as its owners and managers keep it (`catalog.store`): name, introduction,
announcement, phone, address and place, opening hours, logo and photos; and the halls."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yuyue.accounts.auth import MANAGERS
from yuyue.catalog import services as catalog
from yuyue.catalog import store
from yuyue.catalog.models import Hall
from yuyue.core.errors import DomainError
from yuyue.web.helpers import uploaded_pictures

from .desk import Desk, desk_page
from .views import _flash


def _back():
    return HttpResponseRedirect(reverse("merchant:store"))


def _point(post):
    try:
        lat = float(post.get("lat")) if post.get("lat") else None
        lng = float(post.get("lng")) if post.get("lng") else None
    except ValueError as exc:
        raise DomainError("invalid_input", "lat and lng are numbers.") from exc
    return lat, lng


@desk_page(roles=MANAGERS)
def store_page(request, desk: Desk):
    m = desk.merchant
    if request.method == "POST":
        hours = [
            {
                "weekday": d,
                "open": request.POST.get(f"open-{d}"),
                "close": request.POST.get(f"close-{d}"),
            }
            for d in range(7)
            if request.POST.get(f"opens-{d}")
        ]
        try:
            lat, lng = _point(request.POST)
            store.update_store(
                actor=request.user,
                merchant=m,
                name=request.POST.get("name", ""),
                introduction=request.POST.get("introduction", ""),
                announcement=request.POST.get("announcement", ""),
                phone=request.POST.get("phone", ""),
                address=request.POST.get("address", ""),
                lat=lat,
                lng=lng,
                opening_hours=hours,
            )
        except DomainError as exc:
            _flash(request, exc.message(), "error")
        else:
            _flash(request, _("Store saved: customers see it now."))
        return _back()
    opening = {h["weekday"]: h for h in m.opening_hours or []}
    return render(
        request,
        "web/merchant/store.html",
        {
            "desk": desk,
            "m": m,
            "days": [(d, opening.get(d)) for d in range(7)],
            "photos": list(m.photos.all()),
            "halls": Hall.objects.filter(merchant=m).order_by("name"),
            "flash": request.session.pop("flash", None),
        },
    )


@desk_page(roles=MANAGERS)
@require_POST
def pictures(request, desk: Desk):
    try:
        if request.POST.get("remove"):
            store.remove_photo(
                actor=request.user, merchant=desk.merchant, photo_id=int(request.POST["remove"])
            )
        else:
            logo, photos = uploaded_pictures(request, "logo"), uploaded_pictures(request, "photos")
            for data in logo[:1]:
                store.set_logo(actor=request.user, merchant=desk.merchant, data=data)
            for data in photos:
                store.add_photo(actor=request.user, merchant=desk.merchant, data=data)
    except (DomainError, ValueError) as exc:
        _flash(request, exc.message() if isinstance(exc, DomainError) else str(exc), "error")
    else:
        _flash(request, _("Pictures saved."))
    return _back()


@desk_page(roles=MANAGERS)
@require_POST
def new_hall(request, desk: Desk):
    try:
        catalog.create_hall(
            actor=request.user,
            merchant=desk.merchant,
            name=(request.POST.get("name") or "").strip()[:200],
            address=(request.POST.get("address") or "").strip()[:300],
        )
    except DomainError as exc:
        _flash(request, exc.message(), "error")
    else:
        _flash(request, _("Hall added."))
    return _back()


@desk_page(roles=MANAGERS)
@require_POST
def provider_bounds(request, desk: Desk):
    from yuyue.web.amounts import yuan_to_fen

    def fen(name):
        raw = (request.POST.get(name) or "").strip()
        if not raw:
            return None
        value = yuan_to_fen(raw)
        if value is None:
            raise DomainError("invalid_amount", max=10_000_000)
        return value

    def clock(name):
        raw = (request.POST.get(name) or "").strip()
        try:
            return dt.time.fromisoformat(raw) if raw else None
        except ValueError as exc:
            raise DomainError("invalid_hours") from exc

    try:
        store.set_provider_bounds(
            actor=request.user,
            merchant=desk.merchant,
            price_min_fen=fen("price_min"),
            price_max_fen=fen("price_max"),
            hours_start=clock("hours_start"),
            hours_end=clock("hours_end"),
        )
    except DomainError as exc:
        _flash(request, exc.message(), "error")
    else:
        _flash(request, _("Saved: providers are held to it from now."))
    return _back()


@desk_page(roles=MANAGERS)
def announcements_page(request, desk: Desk):
    """The merchant's announcements to its store's customers, its providers or its staff."""
    from yuyue.web.announcing import announcements_page as page

    return page(
        request,
        merchant_id=desk.merchant.pk,
        template="web/merchant/announcements.html",
        context={"desk": desk},
    )
