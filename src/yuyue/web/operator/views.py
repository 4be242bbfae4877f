"""The operators' pages (运营): merchant applications to review (with the licence), provider
applications (the reviewers' pages under /pro/review/), withdrawals to decide with who asks and
what they hold, and the platform's figures (a day, week or month, by day and by merchant). The
services the operators' API calls (`catalog.onboarding`, `billing.settlement`,
`billing.figures`)."""

from __future__ import annotations

from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yuyue.accounts.models import ApplicationStatus, ProviderApplication
from yuyue.billing import settlement
from yuyue.billing.figures import figures_xlsx, platform_dashboard
from yuyue.billing.models import Withdrawal, WithdrawalStatus
from yuyue.catalog.models import MerchantApplication, MerchantApplicationStatus
from yuyue.catalog.onboarding import review_merchant_application
from yuyue.core.errors import DomainError
from yuyue.core.timeutil import zone
from yuyue.engagement import chat
from yuyue.web.figures_page import asked, figures_context, xlsx_response
from yuyue.web.helpers import flash as _flash


def operator_page(view):
    @login_required(login_url="customer:sign-in")
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_operator:
            return render(request, "web/operator/not_operator.html", status=403)
        return view(request, *args, **kwargs)

    return wrapped


@operator_page
def home(request):
    return render(
        request,
        "web/operator/home.html",
        {
            "merchants_waiting": MerchantApplication.objects.filter(
                status=MerchantApplicationStatus.PENDING
            ).count(),
            "providers_waiting": ProviderApplication.objects.filter(
                status=ApplicationStatus.PENDING
            ).count(),
            "withdrawals_waiting": Withdrawal.objects.filter(
                status=WithdrawalStatus.REQUESTED
            ).count(),
        },
    )


@operator_page
def figures_page(request):
    """The whole platform's figures: a day, week or month against the one before, by day and by
    merchant (`billing.figures.platform_dashboard`)."""
    period, day = asked(request)
    report = platform_dashboard(actor=request.user, period=period, day=day)
    return render(
        request,
        "web/operator/figures.html",
        {
            **figures_context(report),
            "rating_label": _("Merchants' rating"),
            "tables": [("merchant", _("By merchant"), report["by_merchant"])],
        },
    )


@operator_page
def figures_export(request):
    period, day = asked(request)
    report = platform_dashboard(actor=request.user, period=period, day=day)
    try:
        content = figures_xlsx(report, request.GET.get("table") or "merchant")
    except DomainError as exc:
        return HttpResponse(exc.message(), status=exc.status, content_type="text/plain")
    return xlsx_response(content, f"figures-platform-{report['first']:%Y%m%d}.xlsx")


@operator_page
def announcements_page(request):
    """The platform's announcements to every customer, provider or merchant's staff."""
    from yuyue.web.announcing import announcements_page as page

    return page(request, merchant_id=None, template="web/operator/announcements.html", context={})


@operator_page
def merchant_applications(request):
    rows = MerchantApplication.objects.select_related("applicant").order_by("status", "updated_at")
    return render(
        request,
        "web/operator/merchant_applications.html",
        {"rows": rows[:200], "flash": request.session.pop("flash", None)},
    )


@operator_page
def merchant_application(request, application_id: int):
    a = MerchantApplication.objects.select_related("applicant").filter(pk=application_id).first()
    if a is None:
        raise Http404
    if request.method == "POST":
        try:
            review_merchant_application(
                actor=request.user,
                application_id=a.pk,
                approve=request.POST.get("decision") == "approve",
                reason=request.POST.get("reason", ""),
            )
        except DomainError as exc:
            _flash(request, exc.message(), "error")
            return HttpResponseRedirect(reverse("operator:merchant-application", args=[a.pk]))
        _flash(request, _("Decided; the applicant is told."))
        return HttpResponseRedirect(reverse("operator:merchant-applications"))
    return render(
        request,
        "web/operator/merchant_application.html",
        {"a": a, "flash": request.session.pop("flash", None)},
    )


@operator_page
def licence(request, application_id: int):
    a = MerchantApplication.objects.filter(pk=application_id).first()
    if a is None or not a.licence:
        raise Http404
    response = FileResponse(a.licence.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response


@operator_page
def withdrawals(request):
    waiting = list(
        Withdrawal.objects.filter(status=WithdrawalStatus.REQUESTED)
        .select_related("provider__user", "provider__merchant")
        .order_by("created_at")[:200]
    )
    for w in waiting:
        w.holds = settlement.earnings(w.provider)
    decided = (
        Withdrawal.objects.exclude(status=WithdrawalStatus.REQUESTED)
        .select_related("provider", "decided_by")
        .order_by("-decided_at")[:30]
    )
    return render(
        request,
        "web/operator/withdrawals.html",
        {"waiting": waiting, "decided": decided, "flash": request.session.pop("flash", None)},
    )


@operator_page
@require_POST
def decide_withdrawal(request, withdrawal_id: int):
    try:
        if request.POST.get("decision") == "approve":
            settlement.approve_withdrawal(actor=request.user, withdrawal_id=withdrawal_id)
        else:
            reason = (request.POST.get("reason") or "").strip()
            if not reason:
                raise DomainError("reason_required")
            settlement.reject_withdrawal(
                actor=request.user, withdrawal_id=withdrawal_id, reason=reason
            )
    except DomainError as exc:
        _flash(request, exc.message(), "error")
    else:
        _flash(request, _("Decided."))
    return HttpResponseRedirect(reverse("operator:withdrawals"))


@operator_page
def review_queue(request):
    """Reviews held by the content check or reported by someone, oldest first."""
    from django.db.models import Count, Q

    from yuyue.engagement.models import Review, ReviewStatus

    rows = (
        Review.objects.annotate(n_reports=Count("reports"))
        .filter(Q(status=ReviewStatus.PENDING) | Q(n_reports__gt=0, status=ReviewStatus.PUBLISHED))
        .select_related("customer", "merchant", "service")
        .prefetch_related("photos", "reports")
        .order_by("created_at")[:100]
    )
    return render(
        request,
        "web/operator/reviews.html",
        {"rows": rows, "flash": request.session.pop("flash", None)},
    )


@operator_page
@require_POST
def moderate(request, review_id: int):
    from yuyue.engagement.reviews import moderate_review

    try:
        moderate_review(
            actor=request.user,
            review_id=review_id,
            publish=request.POST.get("decision") == "publish",
            reason=request.POST.get("reason", ""),
        )
    except DomainError as exc:
        _flash(request, exc.message(), "error")
    else:
        _flash(request, _("Decided."))
    return HttpResponseRedirect(reverse("operator:reviews"))


@operator_page
def case_queue(request):
    """Open cases, those past a deadline first, then by the merchant's answer."""
    from django.db.models import F

    from yuyue.engagement.models import OPEN_CASE, Case

    rows = (
        Case.objects.filter(status__in=OPEN_CASE)
        .select_related("booking__service", "merchant")
        .prefetch_related("photos")
        .order_by(F("escalated_at").desc(nulls_last=True), "status", "created_at")[:100]
    )
    return render(
        request,
        "web/operator/cases.html",
        {"rows": rows, "flash": request.session.pop("flash", None)},
    )


@operator_page
@require_POST
def decide_case(request, case_id: int):
    from yuyue.engagement.cases import decide_case as decide
    from yuyue.web.amounts import yuan_to_fen

    try:
        raw = (request.POST.get("refund") or "").strip()
        amount = 0 if request.POST.get("decision") == "close" else yuan_to_fen(raw)
        if amount is None:
            raise DomainError("invalid_amount", max=10**9)
        decide(
            actor=request.user,
            case_id=case_id,
            refund_fen=amount,
            note=request.POST.get("note", ""),
        )
    except DomainError as exc:
        _flash(request, exc.message(), "error")
    else:
        _flash(request, _("Decided; both sides are told."))
    return HttpResponseRedirect(reverse("operator:cases"))


@operator_page
def top_up_plans(request):
    """Stored-value plans 充值套餐: pay so much, get so much more; offered, or retired
    (`billing.topups`)."""
    from yuyue.billing import topups
    from yuyue.billing.models import TopUpPlan
    from yuyue.web.amounts import yuan_to_fen

    if request.method == "POST":
        try:
            if request.POST.get("plan"):
                topups.update_plan(
                    actor=request.user,
                    plan_id=int(request.POST["plan"]),
                    active=request.POST.get("active") == "1",
                )
            else:
                pay = yuan_to_fen(request.POST.get("pay"))
                bonus_raw = (request.POST.get("bonus") or "").strip()
                bonus = 0 if bonus_raw in ("", "0") else yuan_to_fen(bonus_raw)
                if pay is None or bonus is None:
                    raise DomainError("invalid_amount", max=10**9)
                topups.create_plan(
                    actor=request.user,
                    name=request.POST.get("name", ""),
                    pay_fen=pay,
                    bonus_fen=bonus,
                )
        except (DomainError, ValueError) as exc:
            _flash(request, exc.message() if isinstance(exc, DomainError) else str(exc), "error")
        else:
            _flash(request, _("Saved."))
        return HttpResponseRedirect(reverse("operator:plans"))
    return render(
        request,
        "web/operator/plans.html",
        {
            "plans": TopUpPlan.objects.order_by("-active", "pay_fen"),
            "flash": request.session.pop("flash", None),
        },
    )


@operator_page
def support_queue(request):
    """The platform's support desk: customers' conversations, unread first."""
    return render(
        request,
        "web/chat/queue.html",
        {
            "rows": chat.support_queue(actor=request.user),
            "zone": zone(settings.TIME_ZONE),
            "nav": "web/operator/_nav.html",
        },
    )
