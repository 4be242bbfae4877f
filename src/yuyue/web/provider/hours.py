"""A provider's working hours and leave, within what their merchant allows."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from yuyue.accounts.models import Provider
from yuyue.core.errors import DomainError

from .views import _flash, _tz, provider_page

WEEKDAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@provider_page
def hours(request, provider: Provider):
    """The provider's week (one window a day here; several through the API) and dated leave or
    extra hours (`scheduling.services`, as the API's)."""
    from yuyue.scheduling import services as scheduling
    from yuyue.scheduling.models import AvailabilityException, WorkingHours

    if request.method == "POST":
        try:
            if request.POST.get("action") == "exception":
                scheduling.add_availability_exception(
                    actor=request.user,
                    provider=provider,
                    date=dt.date.fromisoformat(request.POST.get("date", "")),
                    start=dt.time.fromisoformat(request.POST.get("start", "")),
                    end=dt.time.fromisoformat(request.POST.get("end", "")),
                    kind=request.POST.get("kind", ""),
                    note=request.POST.get("note", ""),
                )
            else:
                week = []
                for d in range(7):
                    start, end = request.POST.get(f"start-{d}"), request.POST.get(f"end-{d}")
                    if request.POST.get(f"works-{d}") == "1" and start and end:
                        week.append({"weekday": d, "start": start, "end": end})
                scheduling.set_working_hours(actor=request.user, provider=provider, hours=week)
        except ValueError:
            _flash(request, _("Check the dates and times."))
        except DomainError as exc:
            _flash(request, exc.message())
        else:
            _flash(request, _("Saved."), "ok")
        return HttpResponseRedirect(reverse("provider:hours"))
    week = {h.weekday: h for h in WorkingHours.objects.filter(provider=provider)}
    days = [{"n": d, "name": _(WEEKDAY_NAMES[d]), "hours": week.get(d)} for d in range(7)]
    today = timezone.now().astimezone(_tz(provider)).date()
    exceptions = AvailabilityException.objects.filter(provider=provider, date__gte=today).order_by(
        "date", "start"
    )
    return render(
        request,
        "web/provider/hours.html",
        {
            "days": days,
            "exceptions": exceptions,
            "today": today,
            "flash": request.session.pop("flash", None),
        },
    )
