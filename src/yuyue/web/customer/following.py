"""Following and changing one's orders: my bookings with their filters, a booking's page (timeline,
check-in code, the provider on the way, the bill), cancelling and rescheduling.
"""

from __future__ import annotations

import datetime as dt
import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from yuyue.billing.models import Payment as BillingPayment
from yuyue.billing.models import PaymentStatus as BillingPaymentStatus
from yuyue.billing.models import Refund
from yuyue.billing.refunds import policy_refund
from yuyue.billing.settlement import settled
from yuyue.core.errors import DomainError
from yuyue.core.timeutil import zone
from yuyue.dispatch.tracking import TRACKED
from yuyue.engagement.cases import CASEABLE
from yuyue.engagement.chat import order_chat_open
from yuyue.engagement.models import OPEN_CASE, Review
from yuyue.engagement.reviews import reviewable
from yuyue.orders import queries, waitlist
from yuyue.orders.cancelling import cancel_booking
from yuyue.orders.models import Booking, BookingEvent, BookingStatus, PaymentStatus
from yuyue.orders.queries import CANCELLED
from yuyue.orders.rescheduling import MOVABLE, reschedule_booking
from yuyue.web.templatetags.display import status_labels

from .booking import _slots
from .paying import gateway_word
from .views import DAYS_AHEAD, FILTERS, _at, _chosen_day, _days, _mine


@login_required(login_url="customer:sign-in")
def booking_page(request, booking_id: int):
    """A booking: its state and timeline, the check-in code as a QR, what cancelling costs."""
    booking = _mine(request, booking_id)
    tz = zone(booking.merchant.timezone)
    cancellable = (
        booking.status
        in (
            BookingStatus.BOOKED,
            BookingStatus.AWAITING_PAYMENT,
            BookingStatus.AWAITING_PROVIDER,
            BookingStatus.ACCEPTED,
        )
        and booking.starts_at > timezone.now()
    )
    paid = booking.payment_status == PaymentStatus.PAID
    refund = policy_refund(booking) if cancellable and paid else 0
    context = {
        "booking": booking,
        "tz": tz,
        "start": _at(booking.starts_at, tz),
        "end": _at(booking.ends_at, tz),
        "events": [
            {"at": _at(e.at, tz), "step": e.step, "to": e.to_status}
            for e in BookingEvent.objects.filter(booking=booking).order_by("at", "id")
        ],
        "show_code": booking.status == BookingStatus.BOOKED and booking.slot_id,
        "onsite": booking.channel in ("dispatch", "chosen", "task_hall")
        and booking.status not in CANCELLED,
        # the provider's way here, live over the tracking socket (signed in by the session)
        "tracked": booking.status in TRACKED,
        "status_labels": json.dumps({k: str(v) for k, v in status_labels().items()}),
        "is_call": booking.channel == "call"
        and booking.status not in CANCELLED
        and booking.ends_at > timezone.now(),
        "cancellable": cancellable,
        "paid": paid,
        "refund": refund,
        "fee": booking.price_fen - refund if paid else 0,
        "confirm": request.GET.get("cancel") == "1",
        "just_paid": request.GET.get("paid") == "1",
        # back from a gateway: wait (the page asks again) for its notification
        "paying": _paying(booking) if request.GET.get("paying") == "1" else "",
        "just_moved": request.GET.get("moved") == "1",
        "movable": bool(booking.slot_id)
        and booking.status in MOVABLE
        and booking.starts_at > timezone.now(),
        "error": request.session.pop("flash_error", None),
        "refunds": [
            {"amount": r.amount_fen, "at": _at(r.created_at, tz)}
            for r in Refund.objects.filter(payment__booking=booking).order_by("created_at")
        ],
        # cancelled after paying, and nothing back yet: the refund job has not run
        "refund_pending": booking.status in CANCELLED and booking.payment_status == "paid",
        "review": Review.objects.filter(booking=booking).prefetch_related("photos").first(),
        "may_review": reviewable(booking),
        "may_chat": order_chat_open(booking),
        "cases": list(booking.cases.order_by("-created_at")),
        "may_open_case": booking.status in CASEABLE
        and booking.payment_status in (PaymentStatus.PAID, PaymentStatus.PARTIALLY_REFUNDED)
        and not booking.cases.filter(status__in=OPEN_CASE).exists()
        and not settled(booking.pk),
    }
    return gateway_word(request, context["paying"]) or render(
        request, "web/customer/booking.html", context
    )


def _paying(booking: Booking) -> str:
    """Where the order's latest gateway payment stands: "paid", "failed" or "waiting"."""
    if booking.payment_status == PaymentStatus.PAID:
        return "paid"
    last = BillingPayment.objects.filter(booking=booking).order_by("-created_at").first()
    failed = last is not None and last.status == BillingPaymentStatus.FAILED
    return "failed" if failed else "waiting"


@login_required(login_url="customer:sign-in")
@require_POST
def cancel(request, booking_id: int):
    booking = _mine(request, booking_id)
    try:
        cancel_booking(
            actor=request.user, booking_id=booking.pk, reason=request.POST.get("reason", "")[:300]
        )
    except DomainError as exc:
        request.session["flash_error"] = exc.message()
    return HttpResponseRedirect(reverse("customer:booking", args=[booking.pk]))


@login_required(login_url="customer:sign-in")
@require_http_methods(["GET", "POST"])
def reschedule(request, booking_id: int):
    """Another time of the same service for this booking: the new place is taken before the
    old one is given back (`orders.rescheduling`)."""
    booking = _mine(request, booking_id)
    if booking.slot_id is None or booking.status not in MOVABLE:
        return HttpResponseRedirect(reverse("customer:booking", args=[booking.pk]))
    service = booking.service
    context = {
        "booking": booking,
        "service": service,
        "chosen": request.POST.get("slot") or request.GET.get("slot") or "",
        "poll_seconds": settings.YUYUE_SLOT_POLL_SECONDS,
        "slots_url": request.path,
    }
    if request.method == "POST":
        try:
            slot_id = int(request.POST.get("slot") or 0)
        except ValueError:
            slot_id = 0
        try:
            if not slot_id:
                raise DomainError("invalid_input", _("Choose a time first."))
            reschedule_booking(actor=request.user, booking_id=booking.pk, slot_id=slot_id)
        except DomainError as exc:
            context["error"] = exc.message()
        else:
            url = reverse("customer:booking", args=[booking.pk])
            return HttpResponseRedirect(f"{url}?moved=1")
    day = _chosen_day(request, service)
    start = _at(booking.starts_at, zone(service.merchant.timezone))
    asked = request.GET.get("day") or request.POST.get("day")
    if not asked and day <= start.date() < day + dt.timedelta(days=DAYS_AHEAD):
        day = start.date()  # open on the booking's own day
    slots = _slots(service, day, mine=booking.slot_id)
    context.update(day=day, days=_days(service, day), slots=slots, start=start)
    if request.headers.get("HX-Request") and request.GET.get("part") == "slots":
        return render(request, "web/customer/_slots.html", context)
    status = 409 if "error" in context else 200
    return render(request, "web/customer/reschedule.html", context, status=status)


@login_required(login_url="customer:sign-in")
def bookings(request):
    """My bookings, filtered as the multi-hall original: upcoming, all, checked in, expired
    without check-in, cancelled."""
    view = request.GET.get("view", "upcoming")
    if view not in FILTERS:
        view = "upcoming"
    rows = list(queries.customer_bookings(request.user, view)[:100])
    for b in rows:
        b.local_start = _at(b.starts_at, zone(b.merchant.timezone))
    waiting = waitlist.my_waitlist(actor=request.user)
    for w in waiting:
        w.local_start = _at(w.slot.starts_at, zone(w.slot.service.merchant.timezone))
    return render(
        request,
        "web/customer/bookings.html",
        {
            "rows": rows,
            "view": view,
            "filters": FILTERS,
            "waiting": waiting,
            "just_waiting": request.GET.get("waiting") == "1",
        },
    )


@login_required(login_url="customer:sign-in")
@require_POST
def leave_waitlist(request, entry_id: int):
    try:
        waitlist.leave_waitlist(actor=request.user, entry_id=entry_id)
    except DomainError as exc:
        raise Http404 from exc
    return HttpResponseRedirect(reverse("customer:bookings"))


# --- wallet and notices ------------------------------------------------------------------------
