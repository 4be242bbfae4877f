"""The merchant's providers and their roster 排班: each provider's state (verified or waiting,
on duty, resting, off), open orders and record; a week of their hours (weekly hours with leave
and extra hours applied); the same week's hours or a day of leave set for many at once; and the
applications waiting for review (`scheduling.services.set_roster` / `add_leave`)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yuyue.accounts.auth import MANAGERS
from yuyue.accounts.models import ApplicationStatus, Provider, ProviderApplication
from yuyue.core.errors import DomainError
from yuyue.dispatch.record import recent_breaches
from yuyue.orders.models import BookingStatus
from yuyue.scheduling import services as calendars
from yuyue.scheduling.availability import working_windows
from yuyue.web.helpers import week_start

from .desk import Desk, desk_page
from .views import _flash

OPEN = (
    BookingStatus.ACCEPTED,
    BookingStatus.DEPARTED,
    BookingStatus.ARRIVED,
    BookingStatus.IN_SERVICE,
)


@desk_page(roles=MANAGERS)
def roster(request, desk: Desk):
    today = timezone.now().astimezone(desk.tz).date()
    monday = week_start(request.GET.get("week"), today)
    days = [monday + dt.timedelta(days=i) for i in range(7)]
    people = list(
        Provider.objects.filter(merchant=desk.merchant)
        .annotate(open_orders=Count("bookings", filter=Q(bookings__status__in=OPEN)))
        .order_by("display_name", "pk")
    )
    windows = working_windows(
        {p.pk: p.zone_name for p in people},
        [(p.pk, d) for p in people for d in days],
        [p.pk for p in people],
    )
    breaches = recent_breaches([p.pk for p in people])
    for p in people:
        p.week = []
        for d in days:
            spans = windows.get((p.pk, d), [])
            if spans:
                tz = desk.tz
                first = dt.datetime.fromtimestamp(spans[0][0], tz)
                last = dt.datetime.fromtimestamp(spans[-1][1], tz)
                p.week.append(f"{first:%H:%M}–{last:%H:%M}")
            else:
                p.week.append("")
        p.recent_breaches = breaches.get(p.pk, 0)
    return render(
        request,
        "web/merchant/roster.html",
        {
            "desk": desk,
            "people": people,
            "days": days,
            "monday": monday,
            "previous": monday - dt.timedelta(days=7),
            "next": monday + dt.timedelta(days=7),
            "waiting": ProviderApplication.objects.filter(
                merchant=desk.merchant, status=ApplicationStatus.PENDING
            ).count(),
            "flash": request.session.pop("flash", None),
        },
    )


def _chosen(request, desk: Desk) -> list[Provider]:
    ids = [int(i) for i in request.POST.getlist("provider") if i.isdigit()]
    return list(Provider.objects.filter(merchant=desk.merchant, pk__in=ids))


def _time(raw: str) -> dt.time:
    try:
        return dt.time.fromisoformat(raw or "")
    except ValueError as exc:
        raise DomainError("invalid_hours") from exc


@desk_page(roles=MANAGERS)
@require_POST
def set_week(request, desk: Desk):
    try:
        start, end = _time(request.POST.get("start")), _time(request.POST.get("end"))
        hours = [
            {"weekday": d, "start": f"{start:%H:%M}", "end": f"{end:%H:%M}"}
            for d in range(7)
            if request.POST.get(f"day-{d}")
        ]
        n = calendars.set_roster(actor=request.user, providers=_chosen(request, desk), hours=hours)
    except DomainError as exc:
        _flash(request, exc.message(), "error")
    else:
        _flash(request, _("Hours set for %(n)s providers.") % {"n": n})
    return HttpResponseRedirect(
        reverse("merchant:roster") + f"?week={request.POST.get('week', '')}"
    )


@desk_page(roles=MANAGERS)
@require_POST
def leave(request, desk: Desk):
    try:
        try:
            date = dt.date.fromisoformat(request.POST.get("date") or "")
        except ValueError as exc:
            raise DomainError("invalid_hours") from exc
        n = calendars.add_leave(
            actor=request.user,
            providers=_chosen(request, desk),
            date=date,
            start=_time(request.POST.get("leave_start") or "00:00"),
            end=_time(request.POST.get("leave_end") or "23:59"),
            note=(request.POST.get("note") or "").strip(),
        )
    except DomainError as exc:
        _flash(request, exc.message(), "error")
    else:
        _flash(request, _("Leave added for %(n)s providers.") % {"n": n})
    return HttpResponseRedirect(
        reverse("merchant:roster") + f"?week={request.POST.get('week', '')}"
    )
