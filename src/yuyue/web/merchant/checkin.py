"""Check-in 核销 at the counter: the customer's QR read by the camera (the browser's
BarcodeDetector, or the vendored polyfill where the browser has none) or the code typed, and a
large answer with the booking's details. The same service as the API (`orders.checkin`)."""

from __future__ import annotations

from django.shortcuts import render
from django.utils.translation import gettext as _

from yuyue.core.codes import normalize_checkin_code
from yuyue.core.errors import DomainError
from yuyue.orders import checkin as checking
from yuyue.orders import queries
from yuyue.orders.models import Booking

from .desk import Desk, desk_page

# each refusal's headline; the service's own message (with its date or time) follows it
ANSWERS = {
    "already_checked_in": ("warn", lambda: _("Already checked in")),
    "not_today": ("warn", lambda: _("Not today")),
    "wrong_merchant": ("bad", lambda: _("Another merchant's booking")),
    "booking_cancelled": ("bad", lambda: _("Cancelled")),
    "code_unknown": ("bad", lambda: _("No booking has this code")),
    "illegal_transition": ("bad", lambda: _("This booking cannot be checked in")),
    "forbidden": ("bad", lambda: _("You may not check in here")),
    "wrong_hall": ("bad", lambda: _("Another hall's booking")),
}


def _details(request, desk: Desk, code: str) -> Booking | None:
    """The booking the code names, when this person may see it: this merchant's (never another
    merchant's), in their halls."""
    code = normalize_checkin_code(code or "")
    if not code:
        return None
    booking = (
        queries.merchant_bookings(desk.merchant, viewer=request.user).filter(code=code).first()
    )
    if booking is not None:
        booking.local_start = booking.starts_at.astimezone(desk.tz)
        booking.local_end = booking.ends_at.astimezone(desk.tz)
    return booking


@desk_page
def checkin(request, desk: Desk):
    answer = None
    if request.method == "POST":
        code = (request.POST.get("code") or "").strip()[:40]
        try:
            checking.check_in(actor=request.user, merchant_id=desk.merchant.pk, code=code)
        except DomainError as exc:
            kind, headline = ANSWERS.get(exc.code, ("bad", lambda: _("Not checked in")))
            answer = {"kind": kind, "code": exc.code, "headline": headline(), "why": exc.message()}
        else:
            answer = {"kind": "ok", "code": "checked_in", "headline": _("Checked in")}
        answer["booking"] = _details(request, desk, code)
        answer["typed"] = code
        if request.htmx:
            return render(request, "web/merchant/_checkin_answer.html", {"a": answer, "desk": desk})
    return render(request, "web/merchant/checkin.html", {"a": answer, "desk": desk})
