"""The customer's after-sales cases 售后 (`engagement.cases`): ask for money back on a finished,
paid order, then follow the case: the merchant's answer, the platform's decision, the refund."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from yuyue.core.errors import DomainError
from yuyue.core.timeutil import zone
from yuyue.engagement import cases
from yuyue.engagement.models import Case, CaseReason
from yuyue.orders.models import Booking
from yuyue.web.helpers import uploaded_pictures

REASONS = {
    CaseReason.QUALITY: lambda: _("The work was poorly done"),
    CaseReason.NOT_DONE: lambda: _("The service did not happen as booked"),
    CaseReason.DAMAGE: lambda: _("Something was damaged"),
    CaseReason.CONDUCT: lambda: _("The provider's conduct"),
    CaseReason.OTHER: lambda: _("Something else"),
}
EVENTS = {
    "opened": lambda: _("You asked for money back"),
    "answered": lambda: _("The merchant answered"),
    "escalated": lambda: _("A deadline passed: the platform's operators took it"),
    "refunded": lambda: _("The platform refunded"),
    "closed": lambda: _("The platform closed the case"),
}


@login_required(login_url="customer:sign-in")
def open_case(request, booking_id: int):
    from yuyue.web.amounts import yuan_to_fen

    booking = (
        Booking.objects.filter(pk=booking_id, customer=request.user)
        .select_related("service", "merchant")
        .first()
    )
    if booking is None:
        raise Http404
    error = None
    if request.method == "POST":
        try:
            photos = uploaded_pictures(request, "photos")
            amount = yuan_to_fen(request.POST.get("amount"))
            if amount is None:
                raise DomainError("invalid_amount", max=booking.price_fen)
            case = cases.open_case(
                actor=request.user,
                booking_id=booking.pk,
                reason=request.POST.get("reason") or "",
                text=request.POST.get("text", ""),
                amount_fen=amount,
                photos=photos,
            )
        except DomainError as exc:
            error = exc.message()
        else:
            return HttpResponseRedirect(reverse("customer:case", args=[case.pk]))
    return render(
        request,
        "web/customer/case_new.html",
        {
            "booking": booking,
            "reasons": [(k, say()) for k, say in REASONS.items()],
            "error": error,
            "kept": request.POST if request.method == "POST" else {},
        },
    )


@login_required(login_url="customer:sign-in")
def case_page(request, case_id: int):
    case = (
        Case.objects.select_related("booking__service", "merchant")
        .prefetch_related("events", "photos")
        .filter(pk=case_id)
        .first()
    )
    if case is None or case.customer_id != request.user.pk:
        raise Http404
    tz = zone(case.merchant.timezone)
    events = [
        {"at": e.at.astimezone(tz), "say": EVENTS.get(e.kind, lambda k=e.kind: k)(), "e": e}
        for e in case.events.all()
    ]
    return render(
        request,
        "web/customer/case.html",
        {
            "case": case,
            "events": events,
            "reason": REASONS[case.reason](),
            "answer_due": case.answer_due.astimezone(tz),
        },
    )


def case_photo(request, photo_id: int):
    """A picture of a case: to its customer, the merchant's managers and operators."""
    from django.http import FileResponse

    from yuyue.engagement.models import CasePhoto

    photo = CasePhoto.objects.select_related("case").filter(pk=photo_id).first()
    if photo is None or not cases.may_read(request.user, photo.case):
        raise Http404
    response = FileResponse(photo.file.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response
