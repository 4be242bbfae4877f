"""Applying to sell on the platform (`catalog.onboarding.submit_merchant_application`): the
business, a contact, the address and place, the zone and a picture of the business licence;
the page then shows the review's state, and a rejection's reason with the form to send again."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _

from yuyue.catalog.models import MerchantApplication
from yuyue.catalog.onboarding import submit_merchant_application
from yuyue.core.errors import DomainError
from yuyue.web.helpers import uploaded_pictures

FIELDS = ("business_name", "contact_name", "contact_phone", "address", "lat", "lng", "timezone")


@login_required(login_url="customer:sign-in")
def apply(request):
    mine = MerchantApplication.objects.filter(applicant=request.user).first()
    error, kept = None, {}
    if request.method == "POST":
        kept = {k: (request.POST.get(k) or "").strip() for k in FIELDS}
        try:
            licence = uploaded_pictures(request, "licence")[:1]
            if not licence:
                raise DomainError("invalid_image", max_mb=8)
            try:
                lat, lng = float(kept["lat"]), float(kept["lng"])
            except ValueError as exc:
                raise DomainError(
                    "invalid_input", _("Mark the place: latitude and longitude.")
                ) from exc
            submit_merchant_application(
                actor=request.user,
                business_name=kept["business_name"],
                contact_name=kept["contact_name"],
                contact_phone=kept["contact_phone"],
                address=kept["address"],
                lat=lat,
                lng=lng,
                licence=licence[0],
                timezone_name=kept["timezone"] or "Asia/Shanghai",
            )
        except DomainError as exc:
            error = exc.message()
        else:
            return HttpResponseRedirect(reverse("merchant:apply"))
    elif mine is not None:
        kept = {k: getattr(mine, k) for k in FIELDS}
    return render(
        request,
        "web/merchant/apply.html",
        {
            "mine": mine,
            "kept": kept,
            "error": error,
            "may_send": mine is None or mine.status == "rejected",
        },
    )


@login_required(login_url="customer:sign-in")
def licence(request):
    """The applicant's own licence picture (operators read it on the review page)."""
    mine = MerchantApplication.objects.filter(applicant=request.user).first()
    if mine is None or not mine.licence:
        raise Http404
    response = FileResponse(mine.licence.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response
