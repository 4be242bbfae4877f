"""The dispatch board for on-site services: orders waiting for a round, offered, in the
exceptions queue, accepted, under way and late; an order's candidates with their distance,
load, rating and record, and assigning or reassigning it by hand (`dispatch.board`,
`dispatch.assigning.assign_order` / `reassign_order`)."""

from __future__ import annotations

from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from yuyue.accounts.auth import MANAGERS
from yuyue.core.errors import DomainError
from yuyue.dispatch import assigning as dispatch
from yuyue.dispatch import board as boards
from yuyue.orders.models import BookingStatus

from .desk import Desk, desk_page
from .views import _flash

TITLES = {
    "exceptions": lambda: _("Nobody could take these"),
    "waiting": lambda: _("Waiting for a round"),
    "offered": lambda: _("Offered"),
    "late": lambda: _("Late"),
    "accepted": lambda: _("Accepted"),
    "under_way": lambda: _("Under way"),
}


@desk_page(roles=MANAGERS)
def board(request, desk: Desk):
    columns = boards.dispatch_board(actor=request.user, merchant_id=desk.merchant.pk)
    for rows in columns.values():
        for b in rows:
            b.local_start = b.starts_at.astimezone(desk.tz)
            if b.offer:
                b.offer.local_expiry = b.offer.expires_at.astimezone(desk.tz)
    return render(
        request,
        "web/merchant/dispatch.html",
        {
            "desk": desk,
            "columns": [(key, TITLES[key](), columns[key]) for key in boards.COLUMNS],
            "flash": request.session.pop("flash", None),
        },
    )


@desk_page(roles=MANAGERS)
def order(request, desk: Desk, booking_id: int):
    try:
        booking, people = boards.order_candidates(
            actor=request.user, merchant_id=desk.merchant.pk, booking_id=booking_id
        )
    except DomainError as exc:
        raise Http404 from exc
    if request.method == "POST":
        provider_id = int(request.POST.get("provider") or 0)
        reason = (request.POST.get("reason") or "").strip()[:200]
        try:
            if booking.provider_id:
                dispatch.reassign_order(
                    actor=request.user,
                    booking_id=booking.pk,
                    provider_id=provider_id,
                    from_provider_id=int(request.POST.get("from_provider") or 0),
                    reason=reason,
                )
            else:
                dispatch.assign_order(
                    actor=request.user,
                    booking_id=booking.pk,
                    provider_id=provider_id,
                    reason=reason,
                )
        except DomainError as exc:
            _flash(request, exc.message(), "error")
            return HttpResponseRedirect(reverse("merchant:dispatch-order", args=[booking.pk]))
        _flash(request, _("Assigned: the provider is told."))
        return HttpResponseRedirect(reverse("merchant:dispatch"))
    booking.local_start = booking.starts_at.astimezone(desk.tz)
    for c in people:  # why not, in the catalogue's words and the page's language
        c["why_not_text"] = DomainError(c["why_not"]).message() if c["why_not"] else ""
    return render(
        request,
        "web/merchant/dispatch_order.html",
        {
            "desk": desk,
            "b": booking,
            "people": people,
            "movable": booking.status in (BookingStatus.AWAITING_PROVIDER, BookingStatus.ACCEPTED),
            "flash": request.session.pop("flash", None),
        },
    )
