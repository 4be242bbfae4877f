"""Work a provider goes looking for: the grab feed 抢单 of orders near them, and the task hall's
needs they may apply to with a price and a message.
"""

from __future__ import annotations

from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from yuyue.accounts.models import Provider
from yuyue.core.errors import DomainError
from yuyue.dispatch import services as dispatch

from .views import _flash, _tz, provider_page


@provider_page
def grab(request, provider: Provider):
    """Open orders this provider may take now (抢单), nearest first; the first to take one
    has it."""
    tz = _tz(provider)
    if request.method == "POST":
        try:
            booking = dispatch.grab_order(
                actor=request.user, booking_id=int(request.POST.get("booking") or 0)
            )
        except (DomainError, ValueError) as exc:
            message = exc.message() if isinstance(exc, DomainError) else _("Try again.")
            _flash(request, message)
            return HttpResponseRedirect(reverse("provider:grab"))
        return HttpResponseRedirect(reverse("provider:order", args=[booking.pk]))
    rows = []
    for booking, km in dispatch.grab_feed(actor=request.user):
        booking.local_start = booking.starts_at.astimezone(tz)
        booking.km = km
        booking.area = (booking.address or "").split(" ")[0]
        rows.append(booking)
    return render(
        request,
        "web/provider/grab.html",
        {"rows": rows, "flash": request.session.pop("flash", None), "provider": provider},
    )


@provider_page
def needs(request, provider: Provider):
    """The task hall: customers' requests near the provider that fit their skills, each with
    its budget; apply with a price and a message (the customer picks)."""
    from yuyue.dispatch import taskhall
    from yuyue.dispatch.models import Application

    tz = _tz(provider)
    if request.method == "POST":
        from yuyue.web.amounts import yuan_to_fen

        try:
            price = yuan_to_fen(request.POST.get("price"))
            if price is None:
                raise DomainError("invalid_amount", max=taskhall.MAX_BUDGET)
            taskhall.apply_to_need(
                actor=request.user,
                need_id=int(request.POST.get("need") or 0),
                price_fen=price,
                message=request.POST.get("message", "")[:500],
            )
        except (DomainError, ValueError) as exc:
            message = exc.message() if isinstance(exc, DomainError) else _("Try again.")
            _flash(request, message)
        else:
            _flash(request, _("Applied: the customer is told."), "ok")
        return HttpResponseRedirect(reverse("provider:needs"))
    applied = dict(Application.objects.filter(provider=provider).values_list("need_id", "status"))
    rows = []
    for need, km in taskhall.open_needs_for(actor=request.user):
        need.local_start = need.starts_at.astimezone(tz)
        need.km = km
        need.area = need.address.split(" ")[0]
        need.applied = applied.get(need.pk)
        rows.append(need)
    return render(
        request,
        "web/provider/needs.html",
        {"rows": rows, "flash": request.session.pop("flash", None)},
    )
