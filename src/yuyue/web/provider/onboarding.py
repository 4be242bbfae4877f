"""Pages to become a provider and to review who applies: the application form (real name, ID
number, skills, area, price, pictures of the documents), its state with the reviewer's reason,
sending it again; and, for operators and a merchant's owner or managers, the applications with
their documents (served only to them and the applicant), approved or rejected with a reason.
The rules are `catalog.onboarding`."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from yuyue.accounts.models import (
    ApplicationDocument,
    ProviderApplication,
)
from yuyue.catalog import onboarding
from yuyue.catalog.models import Merchant, MerchantStatus, Service, ServiceKind
from yuyue.core.crypto import mask_id_number
from yuyue.core.errors import DomainError
from yuyue.core.timeutil import zone
from yuyue.web.templatetags.display import document_kind

KINDS = [
    ("photo", True),
    ("id_front", True),
    ("id_back", False),
    ("health", False),
    ("skill", False),
]


def _float(raw, default=None):
    try:
        return float(raw)
    except (TypeError, ValueError):
        return default


@login_required(login_url="customer:sign-in")
@require_http_methods(["GET", "POST"])
def apply(request):
    """Apply to be a provider, see where the application stands, send it again."""
    application = ProviderApplication.objects.filter(user=request.user).first()
    data = request.POST
    context = {
        "application": application,
        "masked_id": mask_id_number(application.id_number) if application else "",
        "merchants": Merchant.objects.filter(status=MerchantStatus.ACTIVE).order_by("name"),
        "services": Service.objects.filter(
            active=True,
            kind__in=[ServiceKind.ON_SITE, ServiceKind.REMOTE],
            merchant__status=MerchantStatus.ACTIVE,
        )
        .select_related("merchant")
        .order_by("merchant__name", "name"),
        "kinds": [(k, document_kind(k), needed) for k, needed in KINDS],
        "form": {
            "real_name": data.get("real_name", application.real_name if application else ""),
            "radius": data.get("radius_km", application.radius_km if application else "10"),
            "merchant": int(data.get("merchant") or 0)
            or (application.merchant_id if application else None),
            "price": data.get(
                "price",
                application.price_fen / 100 if application and application.price_fen else "",
            ),
            "chosen": [int(x) for x in data.getlist("service") if x.isdigit()]
            or (application.service_ids if application else []),
        },
    }
    if request.method == "POST":
        documents = []
        for kind, _needed in KINDS:
            for upload in request.FILES.getlist(kind):
                documents.append((kind, upload.read(onboarding.MAX_DOCUMENT_BYTES + 1)))
        price = _float(data.get("price"))
        try:
            merchant_id = int(data.get("merchant") or 0) or None
            lat, lng = _float(data.get("lat")), _float(data.get("lng"))
            if lat is None or lng is None:
                raise DomainError("invalid_input", _("Share where you work from."))
            onboarding.submit_application(
                actor=request.user,
                real_name=data.get("real_name", ""),
                id_number=data.get("id_number", ""),
                service_ids=context["form"]["chosen"],
                lat=lat,
                lng=lng,
                radius_km=_float(data.get("radius_km"), 10),
                price_fen=round(price * 100) if price else None,
                merchant_id=merchant_id,
                documents=documents,
            )
        except (DomainError, ValueError) as exc:
            context["error"] = exc.message() if isinstance(exc, DomainError) else _("Try again.")
            status = exc.status if isinstance(exc, DomainError) else 400
            return render(request, "web/provider/apply.html", context, status=status)
        return HttpResponseRedirect(reverse("provider:apply"))
    return render(request, "web/provider/apply.html", context)


@login_required(login_url="customer:sign-in")
def review_list(request):
    """The applications this person may review, pending first."""
    if not _may_review_any(request.user):
        raise Http404
    rows = list(onboarding.reviewable(request.user)[:200])
    tz = zone(settings.YUYUE_DEFAULT_TIMEZONE)
    return render(request, "web/provider/review_list.html", {"rows": rows, "tz": tz})


def _may_review_any(user) -> bool:
    return user.is_operator or user.staff_roles.filter(role__in=["owner", "manager"]).exists()


def _reviewable(request, application_id: int) -> ProviderApplication:
    application = onboarding.reviewable(request.user).filter(pk=application_id).first()
    if application is None:
        raise Http404
    return application


@login_required(login_url="customer:sign-in")
def review(request, application_id: int):
    application = _reviewable(request, application_id)
    services = Service.objects.filter(pk__in=application.service_ids).select_related("merchant")
    return render(
        request,
        "web/provider/review.html",
        {
            "a": application,
            "masked_id": mask_id_number(application.id_number),
            "services": services,
            "documents": application.documents.order_by("-round", "kind"),
            "error": request.session.pop("flash_error", None),
        },
    )


@login_required(login_url="customer:sign-in")
@require_POST
def decide(request, application_id: int):
    application = _reviewable(request, application_id)
    try:
        onboarding.review_application(
            actor=request.user,
            application_id=application.pk,
            approve=request.POST.get("decision") == "approve",
            reason=request.POST.get("reason", ""),
        )
    except DomainError as exc:
        request.session["flash_error"] = exc.message()
        return HttpResponseRedirect(reverse("provider:review", args=[application.pk]))
    return HttpResponseRedirect(reverse("provider:review-list"))


@login_required(login_url="customer:sign-in")
def document(request, document_id: int):
    """A document's picture, to its applicant and to those who may review it; to nobody else
    (not found, as a missing one)."""
    doc = ApplicationDocument.objects.select_related("application").filter(pk=document_id).first()
    if doc is None:
        raise Http404
    mine = doc.application.user_id == request.user.pk
    if not mine and not onboarding.reviewable(request.user).filter(pk=doc.application_id).exists():
        raise Http404
    response = FileResponse(doc.file.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response
