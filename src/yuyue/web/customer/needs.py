"""A need in the task hall 需求大厅, in pages: publish what is needed, when, where and for how
much; see who applies (their price, message, rating and experience); pick one, which makes the
order, then pay it as any order. The rules are `dispatch.taskhall` (`publish_need`,
`cancel_need`, `pick_application`), as the API's.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from yuyue.catalog.models import Category
from yuyue.core.errors import DomainError
from yuyue.core.timeutil import local_dt, zone
from yuyue.dispatch import taskhall
from yuyue.dispatch.models import Application, ApplicationStatus, Need, NeedStatus
from yuyue.orders.models import PaymentStatus
from yuyue.web.amounts import yuan_to_fen

from .onsite import _point
from .views import _at

DURATIONS = (60, 120, 180, 240, 480)


def _tz():
    """Needs are local to the platform's city: shown and typed in its zone."""
    return zone(settings.TIME_ZONE)


def _mine(request, need_id: int) -> Need:
    need = Need.objects.select_related("category").filter(pk=need_id, customer=request.user).first()
    if need is None:
        raise Http404
    return need


@login_required(login_url="customer:sign-in")
@require_http_methods(["GET", "POST"])
def new_need(request):
    """Publish a need: what (category, title, details), when (day, time, how long), where (the
    address, and the browser's location so that providers nearby see it) and the budget."""
    tz = _tz()
    tomorrow = timezone.now().astimezone(tz).date() + dt.timedelta(days=1)
    data = request.POST if request.method == "POST" else request.GET
    point = _point(request)
    form = {
        "category": data.get("category", ""),
        "title": data.get("title", ""),
        "description": data.get("description", ""),
        "date": data.get("date") or tomorrow.isoformat(),
        "time": data.get("time") or "09:00",
        "duration": data.get("duration") or "120",
        "address": data.get("address", ""),
        "budget": data.get("budget", ""),
    }
    context = {
        "form": form,
        "point": point,
        "categories": Category.objects.order_by("parent_id", "name"),
        "durations": DURATIONS,
        "min_date": tomorrow - dt.timedelta(days=1),
        "errors": {},
    }
    if request.method == "GET":
        return render(request, "web/customer/need_new.html", context)
    errors = context["errors"]
    try:
        category = int(form["category"])
    except ValueError:
        category = 0
        errors["category"] = _("Choose what you need.")
    if not form["title"].strip():
        errors["title"] = _("Say in a few words what you need.")
    try:
        day = dt.date.fromisoformat(form["date"])
        clock = dt.time.fromisoformat(form["time"])
        starts_at = local_dt(day, clock, tz)
    except ValueError:
        starts_at = None
        errors["when"] = _("Choose a day and a time.")
    budget = yuan_to_fen(form["budget"])
    if budget is None:
        errors["budget"] = _("Enter your budget in yuan.")
    if not form["address"].strip():
        errors["address"] = _("Say where the service is: an address is needed.")
    if point is None:
        errors["where"] = _("Share your location, so that providers near you see your request.")
    if errors:
        context["error"] = _("Please correct the fields marked below.")
        return render(request, "web/customer/need_new.html", context, status=422)
    try:
        need = taskhall.publish_need(
            actor=request.user,
            category_id=category,
            title=form["title"].strip(),
            description=form["description"].strip()[:2000],
            starts_at=starts_at,
            duration_minutes=int(form["duration"]) if form["duration"].isdigit() else 0,
            address=form["address"].strip(),
            lat=point[0],
            lng=point[1],
            budget_fen=budget,
        )
    except DomainError as exc:
        context["error"] = exc.message()
        return render(request, "web/customer/need_new.html", context, status=exc.status)
    return HttpResponseRedirect(reverse("customer:need", args=[need.pk]))


@login_required(login_url="customer:sign-in")
def needs_page(request):
    """My needs, newest first, each with its state and how many providers applied."""
    tz = _tz()
    rows = list(
        Need.objects.filter(customer=request.user)
        .annotate(
            applied=Count("applications", filter=Q(applications__status=ApplicationStatus.APPLIED))
        )
        .order_by("-created_at")[:100]
    )
    for n in rows:
        n.local_start = _at(n.starts_at, tz)
    return render(request, "web/customer/needs.html", {"rows": rows})


@login_required(login_url="customer:sign-in")
def need_page(request, need_id: int):
    """A need: what, when, where, the budget, its state; the providers who applied, with
    their price, message, rating and experience, each with a button to pick them; cancel it
    while nobody is picked. The applicants' list refreshes while the page is open."""
    need = _mine(request, need_id)
    tz = _tz()
    applications = list(
        Application.objects.filter(need=need)
        .exclude(status=ApplicationStatus.WITHDRAWN)
        .select_related("provider")
        .order_by("price_fen", "created_at")
    )
    context = {
        "need": need,
        "start": _at(need.starts_at, tz),
        "applications": applications,
        "open": need.status == NeedStatus.OPEN,
        "error": request.session.pop("flash_error", None),
        "poll_seconds": settings.YUYUE_SLOT_POLL_SECONDS,
    }
    if request.htmx and request.GET.get("part") == "applicants":
        return render(request, "web/customer/_applicants.html", context)
    return render(request, "web/customer/need.html", context)


@login_required(login_url="customer:sign-in")
@require_POST
def pick(request, need_id: int):
    need = _mine(request, need_id)
    try:
        application_id = int(request.POST.get("application") or 0)
    except ValueError:
        application_id = 0
    try:
        booking = taskhall.pick_application(
            actor=request.user, need_id=need.pk, application_id=application_id
        )
    except DomainError as exc:
        request.session["flash_error"] = exc.message()
        return HttpResponseRedirect(reverse("customer:need", args=[need.pk]))
    unpaid = booking.payment_status == PaymentStatus.UNPAID
    return HttpResponseRedirect(
        reverse("customer:pay" if unpaid else "customer:booking", args=[booking.pk])
    )


@login_required(login_url="customer:sign-in")
@require_POST
def cancel(request, need_id: int):
    need = _mine(request, need_id)
    try:
        taskhall.cancel_need(actor=request.user, need_id=need.pk)
    except DomainError as exc:
        request.session["flash_error"] = exc.message()
    return HttpResponseRedirect(reverse("customer:need", args=[need.pk]))
