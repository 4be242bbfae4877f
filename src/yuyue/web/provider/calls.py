"""A consultant's calls: those to come (join the room from the list), and the record of each
held call (how long the meter ran, what it charged and refunded, what it earned them, and its
timeline). The same service functions as the API (`calls.records`)."""

from __future__ import annotations

from django.http import Http404
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _

from yuyue.accounts.models import Provider
from yuyue.calls import records
from yuyue.core.errors import DomainError

from .views import _mine, _tz, provider_page

END_REASONS = {
    "time_up": _("Booked time used up"),
    "funds_exhausted": _("The customer's funds ran out"),
    "dropped": _("The connection dropped"),
    "abandoned": _("A side left and did not come back"),
    "hangup_customer": _("The customer hung up"),
    "hangup_consultant": _("You hung up"),
    "consultant_absent": _("You did not join"),
    "customer_absent": _("The customer did not join"),
    "no_media": _("The audio never connected"),
    "never_together": _("You were never in the room together"),
    "cancelled": _("Cancelled"),
}
EVENTS = {
    "join": _("joined"),
    "back": _("came back"),
    "leave": _("left"),
    "hangup": _("hung up"),
    "gone": _("lost contact"),
    "media": _("audio connected"),
    "media_off": _("audio broke off"),
    "media_lost": _("audio lost"),
    "live": _("The meter started"),
    "paused": _("The meter paused"),
    "blocked": _("The meter could not start: the customer's funds are short"),
    "hold_extended": _("More of the customer's funds held"),
    "warned": _("Time almost up"),
    "ended": _("The call ended"),
    "missed": _("The call did not take place"),
    "cancelled": _("Cancelled"),
}
PARTIES = {"customer": _("Customer"), "consultant": _("You")}


@provider_page
def calls(request, provider: Provider):
    tz = _tz(provider)
    got = records.consultant_calls(provider)
    for c in got["upcoming"] + got["held"]:
        c.local_start = c.booking.starts_at.astimezone(tz)
        c.end_label = END_REASONS.get(c.end_reason, c.end_reason)
    return render(request, "web/provider/calls.html", got)


@provider_page
def call_record(request, provider: Provider, booking_id: int):
    booking = _mine(provider, booking_id)
    tz = _tz(provider)
    try:
        got = records.record(actor=request.user, booking_id=booking.pk)
    except DomainError as exc:  # an order of theirs without a call
        raise Http404 from exc
    for e in got["events"]:
        e["local"] = e["at"].astimezone(tz)
        kind = e["kind"]
        if kind == "media" and (e["detail"] or {}).get("state") != "connected":
            kind = "media_off"
        e["label"] = EVENTS.get(kind, kind)
        e["who"] = PARTIES.get(e["party"], "")  # the platform's own steps name nobody
    got["end_label"] = END_REASONS.get(got["end_reason"], got["end_reason"])
    got["local_start"] = booking.starts_at.astimezone(tz)
    got["booking"] = booking
    got["earned_fen"] = records.earned(provider, booking.pk)
    return render(request, "web/provider/call_record.html", got)
