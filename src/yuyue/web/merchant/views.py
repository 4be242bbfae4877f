"""The merchant's back office (商家端): today at a glance, the booking list with its filters
(search by code, name or whole phone; phones masked for clerks), a booking with its cancel by
staff, and the list as an Excel workbook. Every page calls the services the staff API calls
(`orders.queries.merchant_bookings`, `orders.export`, `orders.cancelling`)."""

from __future__ import annotations

import datetime as dt

from django.core.paginator import Paginator
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from yuyue.catalog.models import Hall, Service
from yuyue.core.errors import DomainError
from yuyue.engagement import announcements
from yuyue.engagement.models import Audience
from yuyue.orders import queries
from yuyue.orders.cancelling import cancel_booking_by_staff
from yuyue.orders.export import export_bookings_xlsx
from yuyue.orders.models import Booking, BookingStatus
from yuyue.web.helpers import flash as _flash

from .desk import Desk, desk_page

STATUSES = (  # the list's status filter: (value, label)
    ("booked", lambda: _("Booked")),
    ("checked_in", lambda: _("Checked in")),
    ("cancelled_any", lambda: _("Cancelled (any)")),
    ("cancelled", lambda: _("Cancelled by the customer")),
    ("cancelled_by_staff", lambda: _("Cancelled by staff")),
    ("no_show", lambda: _("No-show")),
    ("completed", lambda: _("Completed")),
)


def _filters(request, desk: Desk) -> dict:
    """The list's filters from the address; a bad value is dropped, not an error page."""
    got = request.GET

    def date(name):
        try:
            return dt.date.fromisoformat(got.get(name) or "")
        except ValueError:
            return None

    def number(name):
        value = got.get(name) or ""
        return int(value) if value.isdigit() else None

    status = got.get("status") or None
    return {
        "date_from": date("from"),
        "date_to": date("to"),
        "service_id": number("service"),
        "hall_id": number("hall"),
        "slot_id": number("slot"),
        "status": status if status in dict(STATUSES) else None,
        "q": (got.get("q") or "").strip()[:50],
    }


@desk_page
def home(request, desk: Desk):
    """Today at the merchant: places booked, checked in and cancelled, and who comes next."""
    today = timezone.now().astimezone(desk.tz).date()
    rows = list(
        queries.merchant_bookings(
            desk.merchant, date_from=today, date_to=today, viewer=request.user
        ).order_by("starts_at", "id")
    )
    counts = {
        "booked": sum(b.places for b in rows if b.status == BookingStatus.BOOKED),
        "checked_in": sum(b.places for b in rows if b.status == BookingStatus.CHECKED_IN),
        "cancelled": sum(b.places for b in rows if b.status in queries.CANCELLED),
    }
    now = timezone.now()
    coming = [b for b in rows if b.status == BookingStatus.BOOKED and b.ends_at > now][:8]
    for b in coming:
        b.local_start = b.starts_at.astimezone(desk.tz)
    return render(
        request,
        "web/merchant/home.html",
        {
            "desk": desk,
            "today": today,
            "counts": counts,
            "coming": coming,
            "announcements": announcements.current(Audience.STAFF, merchant_ids=[desk.merchant.pk]),
        },
    )


@desk_page
def bookings(request, desk: Desk):
    f = _filters(request, desk)
    qs = queries.merchant_bookings(desk.merchant, **f, viewer=request.user)
    page = Paginator(qs, 50).get_page(request.GET.get("page"))
    for b in page:
        b.local_start = b.starts_at.astimezone(desk.tz)
        b.phone_shown = b.customer.phone if desk.full else b.customer.masked_phone
    context = {
        "desk": desk,
        "page": page,
        "f": f,
        "services": Service.objects.filter(merchant=desk.merchant).order_by("name"),
        "halls": Hall.objects.filter(merchant=desk.merchant).order_by("name"),
        "statuses": [(v, say()) for v, say in STATUSES],
        "query": request.GET.copy(),
    }
    context["query"].pop("page", None)
    template = "web/merchant/_booking_rows.html" if request.htmx else "web/merchant/bookings.html"
    return render(request, template, context)


@desk_page
@require_GET
def export(request, desk: Desk):
    """The filtered list as .xlsx (one row per participant, answers masked for clerks)."""
    f = _filters(request, desk)
    f.pop("q")
    qs = queries.merchant_bookings(desk.merchant, **f, viewer=request.user)
    content = export_bookings_xlsx(actor=request.user, merchant=desk.merchant, bookings=qs)
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = f"bookings-{desk.merchant.slug}-{f['date_from'] or 'all'}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@desk_page
def booking(request, desk: Desk, booking_id: int):
    """A booking of this merchant (another's is a 404), and cancelling it with a reason."""
    b = queries.merchant_bookings(desk.merchant, viewer=request.user).filter(pk=booking_id).first()
    if b is None:
        raise Http404
    if request.method == "POST":
        try:
            cancel_booking_by_staff(
                actor=request.user, booking=b, reason=request.POST.get("reason", "")
            )
        except DomainError as exc:
            _flash(request, exc.message(), "error")
        else:
            _flash(request, _("Cancelled; the customer is told, with the reason."))
        return HttpResponseRedirect(reverse("merchant:booking", args=[b.pk]))
    b.local_start = b.starts_at.astimezone(desk.tz)
    b.local_end = b.ends_at.astimezone(desk.tz)
    b.phone_shown = b.customer.phone if desk.full else b.customer.masked_phone
    answers = _answers(b, full=desk.full)
    return render(
        request,
        "web/merchant/booking.html",
        {
            "desk": desk,
            "b": b,
            "answers": answers,
            "flash": request.session.pop("flash", None),
            "may_cancel": b.status in (BookingStatus.BOOKED, BookingStatus.AWAITING_PAYMENT),
        },
    )


def _answers(booking: Booking, *, full: bool) -> list[dict]:
    """Each participant's form answers as (label, value), masked for clerks, as the API does."""
    from yuyue.orders.schemas import booking_out

    fields = {f.key: f.label for f in booking.service.form_fields.all()}
    out = []
    for p in booking_out(booking, full_answers=full, staff=True)["participants"]:
        out.append(
            {
                "position": p["position"],
                "rows": [(fields.get(k, k), v) for k, v in (p["answers"] or {}).items()],
            }
        )
    return out
