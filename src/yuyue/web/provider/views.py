"""The provider's pages (师傅端): the duty switch, offers arriving live with their countdown,
today's and upcoming work, an order's page with its steps (departing shares the phone's location
with the tracking API), and money: earnings, the statement, withdrawals.

Every page calls the service functions the provider API calls (`catalog.people.set_duty`,
`dispatch.services.accept_offer`/`reject_offer`, `orders.fulfilment`, `dispatch.tracking`,
`billing.settlement`); a provider sees only their own offers, orders and money — anyone else's
id is a 404, like one that does not exist.
"""

from __future__ import annotations

import datetime as dt
from functools import wraps

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from yuyue.accounts.models import Provider
from yuyue.accounts.profile import masked_name
from yuyue.catalog.geocoding import wgs_to_gcj
from yuyue.catalog.models import ServiceKind
from yuyue.catalog.people import set_duty
from yuyue.core.errors import DomainError
from yuyue.core.timeutil import zone
from yuyue.dispatch import services as dispatch
from yuyue.dispatch import tracking
from yuyue.dispatch.models import Offer, OfferStatus
from yuyue.engagement import announcements
from yuyue.engagement.chat import order_chat_open
from yuyue.engagement.models import Audience
from yuyue.orders import fulfilment
from yuyue.orders.models import Booking, BookingStatus
from yuyue.scheduling.availability import working_windows
from yuyue.web.helpers import flash

ACTIVE = (
    BookingStatus.ACCEPTED,
    BookingStatus.DEPARTED,
    BookingStatus.ARRIVED,
    BookingStatus.IN_SERVICE,
)
REJECT_REASONS = {
    "too_far": lambda: _("Too far"),
    "busy": lambda: _("Busy at that time"),
    "not_my_skill": lambda: _("Not my kind of work"),
    "other": lambda: _("Another reason"),
}


def provider_page(view):
    """Signed in, and a provider; the view gets the provider."""

    @login_required(login_url="customer:sign-in")
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        provider = Provider.objects.select_related("merchant").filter(user=request.user).first()
        if provider is None:
            return render(request, "web/provider/not_provider.html", status=403)
        request.consultant = provider.services.filter(kind=ServiceKind.REMOTE).exists()
        return view(request, provider, *args, **kwargs)

    return wrapped


def _tz(provider: Provider):
    return zone(provider.zone_name)


def _flash(request, message: str, kind: str = "error") -> None:
    flash(request, message, kind)  # on the provider's pages a message is a refusal unless said


def _pending_offers(provider: Provider):
    return (
        Offer.objects.filter(
            provider=provider, status=OfferStatus.PENDING, expires_at__gt=timezone.now()
        )
        .select_related("booking__service")
        .order_by("expires_at")
    )


def _offer_context(offer: Offer, tz) -> dict:
    return {
        "o": offer,
        "start": offer.booking.starts_at.astimezone(tz),
        "area": (offer.booking.address or "").split(" ")[0],
        "reasons": [(k, say()) for k, say in REJECT_REASONS.items()],
    }


@provider_page
def home(request, provider: Provider):
    """The day: the duty switch, the offers waiting for an answer (new ones appear without a
    reload), and the next orders."""
    tz = _tz(provider)
    now = timezone.now()
    offers = [_offer_context(o, tz) for o in _pending_offers(provider)]
    upcoming = list(
        Booking.objects.filter(provider=provider, status__in=ACTIVE, ends_at__gt=now)
        .select_related("service")
        .order_by("starts_at")[:5]
    )
    for b in upcoming:
        b.local_start = b.starts_at.astimezone(tz)
    return render(
        request,
        "web/provider/home.html",
        {
            "provider": provider,
            "offers": offers,
            "upcoming": upcoming,
            "flash": request.session.pop("flash", None),
            "announcements": announcements.current(
                Audience.PROVIDERS,
                merchant_ids=[provider.merchant_id] if provider.merchant_id else [],
            ),
            "duties": [
                ("on_duty", _("On duty")),
                ("resting", _("Resting")),
                ("off_duty", _("Off duty")),
            ],
        },
    )


@provider_page
def record(request, provider: Provider):
    """My record of the last 30 days: orders given back, late arrivals, offers turned down or
    left to expire, each with its time and reason."""
    from yuyue.dispatch.record import provider_record

    tz = _tz(provider)
    data = provider_record(provider)
    for row in data["breaches"]:
        row.local = row.at.astimezone(tz)
    for row in data["missed_offers"]:
        row.local = row.sent_at.astimezone(tz)
    return render(request, "web/provider/record.html", {"r": data})


@provider_page
@require_POST
def duty(request, provider: Provider):
    try:
        set_duty(actor=request.user, duty=request.POST.get("duty", ""))
    except DomainError as exc:
        _flash(request, exc.message())
    return HttpResponseRedirect(reverse("provider:home"))


@provider_page
def offer_card(request, provider: Provider, offer_id: int):
    """One offer as a card (the page asks for it when the socket says it is new)."""
    offer = (
        Offer.objects.select_related("booking__service")
        .filter(pk=offer_id, provider=provider)
        .first()
    )
    if offer is None:
        raise Http404
    return render(request, "web/provider/_offer.html", _offer_context(offer, _tz(provider)))


@provider_page
@require_POST
def accept(request, provider: Provider, offer_id: int):
    try:
        booking = dispatch.accept_offer(actor=request.user, offer_id=offer_id)
    except DomainError as exc:
        if exc.code == "not_found":
            raise Http404 from exc
        _flash(request, exc.message())
        return HttpResponseRedirect(reverse("provider:home"))
    return HttpResponseRedirect(reverse("provider:order", args=[booking.pk]))


@provider_page
@require_POST
def reject(request, provider: Provider, offer_id: int):
    reason = request.POST.get("reason", "")
    say = REJECT_REASONS.get(reason)
    try:
        dispatch.reject_offer(
            actor=request.user, offer_id=offer_id, reason=reason if say else "other"
        )
    except DomainError as exc:
        if exc.code == "not_found":
            raise Http404 from exc
        _flash(request, exc.message())
    return HttpResponseRedirect(reverse("provider:home"))


@provider_page
def orders(request, provider: Provider):
    """Today's and the coming orders: a calendar of four weeks (each day's working hours, or a
    day off, and its orders), then day by day, and the last done."""
    tz = _tz(provider)
    now = timezone.now()
    rows = list(
        Booking.objects.filter(
            provider=provider, status__in=ACTIVE, ends_at__gt=now - dt.timedelta(hours=12)
        )
        .select_related("service")
        .order_by("starts_at")[:200]
    )
    days: dict = {}
    for b in rows:
        b.local_start = b.starts_at.astimezone(tz)
        days.setdefault(b.local_start.date(), []).append(b)
    done = list(
        Booking.objects.filter(provider=provider, status=BookingStatus.COMPLETED)
        .select_related("service", "call")
        .order_by("-starts_at")[:20]
    )
    for b in done:
        b.local_start = b.starts_at.astimezone(tz)
    today = now.astimezone(tz).date()
    return render(
        request,
        "web/provider/orders.html",
        {
            "days": sorted(days.items()),
            "done": done,
            "today": today,
            "weeks": _calendar(provider, today, days),
        },
    )


def _calendar(provider: Provider, today: dt.date, orders: dict, weeks: int = 4) -> list[list]:
    """Weeks from this one's Monday: each day with its working hours (the weekly hours with
    leave and extra hours applied, `scheduling.availability.working_windows`) and orders."""
    first = today - dt.timedelta(days=today.weekday())
    dates = [first + dt.timedelta(days=i) for i in range(7 * weeks)]
    windows = working_windows(
        {provider.pk: provider.zone_name}, [(provider.pk, d) for d in dates], [provider.pk]
    )
    cells = []
    for d in dates:
        seconds = sum(end - start for start, end in windows[provider.pk, d])  # a DST day too
        cells.append(
            {
                "date": d,
                "past": d < today,
                "today": d == today,
                "hours": f"{round(seconds / 1800) / 2:g}",  # to the half hour: 8, 7.5
                "orders": len(orders.get(d, ())),
            }
        )
    return [cells[i : i + 7] for i in range(0, len(cells), 7)]


def _mine(provider: Provider, booking_id: int) -> Booking:
    booking = (
        Booking.objects.select_related("service", "customer", "merchant")
        .filter(pk=booking_id, provider=provider)
        .first()
    )
    if booking is None:
        raise Http404
    return booking


STEPS = {  # the page's step buttons: (service function, needs the customer's code)
    "depart": (fulfilment.depart, False),
    "arrive": (fulfilment.arrive, False),
    "customer_absent": (fulfilment.customer_absent, False),
    "start": (fulfilment.start_service, True),
    "complete": (fulfilment.complete_service, True),
}


@provider_page
def order(request, provider: Provider, booking_id: int):
    """An order: when, what, for whom (first name only), where (opening the phone's map app),
    the notes, and the next step; while on the way the page shares the phone's location."""
    booking = _mine(provider, booking_id)
    tz = _tz(provider)
    return render(
        request,
        "web/provider/order.html",
        {
            "b": booking,
            "start": booking.starts_at.astimezone(tz),
            "end": booking.ends_at.astimezone(tz),
            "customer": masked_name(booking.customer.name),
            "may_chat": order_chat_open(booking),
            "notes": (booking.options or {}).get("notes", ""),
            "flash": request.session.pop("flash", None),
            "sharing": booking.status == BookingStatus.DEPARTED,
            "every_ms": max(settings.YUYUE_LOCATION_MIN_SECONDS, 5) * 1000,
            # AMap's apps read GCJ-02, the datum of Chinese maps; we keep WGS-84
            "on_map": wgs_to_gcj(booking.lat, booking.lng) if booking.lat is not None else None,
        },
    )


@provider_page
@require_POST
def step(request, provider: Provider, booking_id: int, name: str):
    """A step of the work, at the phone's location (and with the customer's code to start and
    to finish)."""
    booking = _mine(provider, booking_id)
    if name not in STEPS:
        raise Http404
    do, with_code = STEPS[name]
    try:
        lat = float(request.POST.get("lat") or "")
        lng = float(request.POST.get("lng") or "")
    except ValueError:
        _flash(request, _("Your location is needed for this step: allow it and try again."))
        return HttpResponseRedirect(reverse("provider:order", args=[booking.pk]))
    extra = {"code": request.POST.get("code", "").strip()} if with_code else {}
    if name == "complete":
        extra["photos"] = [
            f.read(fulfilment.MAX_PHOTO_BYTES + 1) for f in request.FILES.getlist("photos")
        ]
    try:
        do(actor=request.user, booking_id=booking.pk, lat=lat, lng=lng, **extra)
    except DomainError as exc:
        _flash(request, exc.message())
    return HttpResponseRedirect(reverse("provider:order", args=[booking.pk]))


@provider_page
@require_POST
def join_call(request, provider: Provider, booking_id: int):
    """A consultant into the call's room (a bearer token in the address's fragment, as the
    customer's page gives it)."""
    from yuyue.accounts.tokens import issue_token

    booking = _mine(provider, booking_id)
    if booking.channel != "call":
        raise Http404
    key, _token = issue_token(user=request.user, via="page")
    return HttpResponseRedirect(f"{reverse('call', args=[booking.pk])}#token={key}")


@provider_page
@require_POST
def location(request, provider: Provider, booking_id: int):
    """Where the provider is now, from the order's page while on the way (to the customer's
    tracking socket)."""
    booking = _mine(provider, booking_id)
    try:
        got = tracking.post_location(
            actor=request.user,
            booking_id=booking.pk,
            lat=float(request.POST.get("lat") or ""),
            lng=float(request.POST.get("lng") or ""),
        )
    except ValueError:
        return JsonResponse({"code": "invalid_input"}, status=422)
    except DomainError as exc:
        return JsonResponse({"code": exc.code}, status=exc.status)
    return JsonResponse({"status": got["status"], "eta_minutes": got["eta_minutes"]})
