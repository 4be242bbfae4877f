"""The customer's pages: sign in, book a hall slot, pay, follow and cancel, my bookings.

Every page calls the same service functions as the JSON API (`accounts.services`,
`orders.placing.book_slot`, `billing.checkout.compute`, `billing.payments.pay_with_wallet`,
`orders.cancelling.cancel_booking`, `orders.queries.customer_bookings`); a refusal is the
service's `DomainError`, shown in the page's language. Pages use the session (signed in with
Django's `login`); nothing of another customer is reachable: a booking id that is not yours is
a 404, like one that does not exist.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal, InvalidOperation
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from yuyue.accounts import services as accounts
from yuyue.accounts.models import Provider
from yuyue.accounts.profile import default_address
from yuyue.accounts.tokens import issue_token
from yuyue.billing import loyalty, payments
from yuyue.billing.checkout import compute
from yuyue.billing.coupons import claim_coupon, claimable, my_unused_claims, usable_claims
from yuyue.billing.gateways import get_gateway
from yuyue.billing.models import Payment as BillingPayment
from yuyue.billing.models import PaymentStatus as BillingPaymentStatus
from yuyue.billing.models import Refund, TopUpPlan
from yuyue.billing.refunds import policy_refund
from yuyue.billing.settlement import settled
from yuyue.catalog.models import FieldType, FormField, Merchant, Service, ServiceKind
from yuyue.catalog.places import area_point, areas
from yuyue.core.errors import DomainError
from yuyue.core.throttle import client_address
from yuyue.core.timeutil import zone
from yuyue.dispatch.ordering import place_onsite_order
from yuyue.dispatch.tracking import TRACKED
from yuyue.engagement.cases import CASEABLE
from yuyue.engagement.chat import order_chat_open, unread_count
from yuyue.engagement.models import OPEN_CASE, Review
from yuyue.engagement.reviews import published_reviews, reviewable
from yuyue.notifications import notices
from yuyue.notifications.models import Notice
from yuyue.orders import queries, waitlist
from yuyue.orders.cancelling import cancel_booking
from yuyue.orders.models import Booking, BookingEvent, BookingStatus, PaymentStatus
from yuyue.orders.placing import book_provider, book_slot
from yuyue.orders.queries import CANCELLED
from yuyue.orders.rescheduling import MOVABLE, reschedule_booking
from yuyue.pricing import metering
from yuyue.pricing.prices import make_quote, unit_price
from yuyue.pricing.prices import price as price_of
from yuyue.scheduling.availability import hall_availability, provider_availability
from yuyue.web.templatetags.display import status_labels

DAYS_AHEAD = 14


def _at(moment: dt.datetime, tz) -> dt.datetime:
    """An instant on the merchant's clock (pages show times in the merchant's zone)."""
    return moment.astimezone(tz)


MAX_PLACES = 6
FILTERS = ("upcoming", "all", "checked_in", "expired", "cancelled")


def _next(request, default: str) -> str:
    """Where to go after signing in: the page the customer came from, if it is ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


def _sign_in_url(request) -> str:
    return f"{reverse('customer:sign-in')}?{urlencode({'next': request.get_full_path()})}"


# --- signing in --------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
def sign_in(request):
    """Phone and a one-time code (sent by SMS), or phone and password; then back where the
    customer was. A new phone number becomes an account with its first code."""
    context = {"next": _next(request, reverse("home")), "phone": "", "step": "phone"}
    if request.method == "POST":
        action = request.POST.get("action", "")
        phone = request.POST.get("phone", "").strip()
        context["phone"] = phone
        try:
            if action == "send_code":
                accounts.send_login_code(phone=phone, client=client_address(request))
                context["step"] = "code"
                context["sent"] = True
            elif action == "code":
                context["step"] = "code"
                user, _key = accounts.login_with_code(
                    phone=phone,
                    code=request.POST.get("code", ""),
                    client=client_address(request),
                    token=False,
                )
                return _signed_in(request, user, context["next"])
            elif action == "password":
                context["step"] = "password"
                user, _key = accounts.login_with_password(
                    phone=phone,
                    password=request.POST.get("password", ""),
                    client=client_address(request),
                    token=False,
                )
                return _signed_in(request, user, context["next"])
            else:
                raise DomainError("invalid_input", "action: send_code, code or password")
        except DomainError as exc:
            context["error"] = exc.message()
            return render(request, "web/customer/sign_in.html", context, status=exc.status)
    if request.GET.get("with") == "password":
        context["step"] = "password"
    return render(request, "web/customer/sign_in.html", context)


def _signed_in(request, user, target: str):
    login(request, user, backend=settings.AUTHENTICATION_BACKENDS[0])
    return HttpResponseRedirect(target)


@require_POST
def sign_out(request):
    logout(request)
    return HttpResponseRedirect(reverse("home"))


# --- a merchant --------------------------------------------------------------------------------


def merchant_page(request, slug: str):
    """A merchant's page: its announcement, logo, photos and introduction, where it is and when
    it is open, its halls, its services with their prices, and its providers with their
    ratings (the verified, active ones)."""
    merchant = Merchant.objects.filter(slug=slug, status="active").first()
    if merchant is None:
        raise Http404
    services = Service.objects.filter(merchant=merchant, active=True).order_by("kind", "name")
    providers = (
        Provider.objects.filter(merchant=merchant, verified=True, active=True)
        .order_by("-rating", "display_name")
        .prefetch_related("services")
    )
    return render(
        request,
        "web/customer/merchant.html",
        {
            "merchant": merchant,
            "halls": merchant.halls.filter(active=True),
            "services": services,
            "providers": providers[:50],
            "photos": list(merchant.photos.all()),
            "reviews": published_reviews(merchant_id=merchant.pk, limit=10),
            "hours": [(h["weekday"], h["open"], h["close"]) for h in merchant.opening_hours or []],
        },
    )


# --- a hall slot ---------------------------------------------------------------------------------


def _service(service_id: int) -> Service:
    service = (
        Service.objects.select_related("merchant")
        .filter(pk=service_id, active=True, merchant__status="active")
        .first()
    )
    if service is None:
        raise Http404
    return service


def _days(service: Service, chosen: dt.date, /, **keep) -> list[dict]:
    """The day strip: the next DAYS_AHEAD local days, each with its link (the page's other
    choices in `keep` carried along)."""
    today = timezone.now().astimezone(zone(service.merchant.timezone)).date()
    days = [today + dt.timedelta(days=i) for i in range(DAYS_AHEAD)]
    return [
        {"date": d, "current": d == chosen, "href": "?" + urlencode({"day": d, **keep})}
        for d in days
    ]


def _chosen_day(request, service: Service) -> dt.date:
    today = timezone.now().astimezone(zone(service.merchant.timezone)).date()
    try:
        day = dt.date.fromisoformat(request.GET.get("day") or request.POST.get("day") or "")
    except ValueError:
        return today
    return day if today <= day < today + dt.timedelta(days=DAYS_AHEAD) else today


def _slots(service: Service, day: dt.date, mine: int | None = None) -> list[dict]:
    tz = zone(service.merchant.timezone)
    out = []
    for row in hall_availability(service=service, date_from=day, date_to=day):
        slot = row["slot"]
        out.append(
            {
                "id": slot.pk,
                "label": f"{_at(slot.starts_at, tz):%H:%M}–{_at(slot.ends_at, tz):%H:%M}",
                "hall": slot.hall.name if slot.hall_id else "",
                "remaining": row["remaining"],
                "bookable": row["bookable"],
                # no place left, but still open: choosing it offers the waiting list
                "waitable": not row["bookable"]
                and row["remaining"] == 0
                and slot.status == "open"
                and timezone.now() < row["deadline"],
                "mine": slot.pk == mine,  # the booking being moved is here now
            }
        )
    return out


PROBLEMS = {  # the booking form's problems (catalog.forms), as the page's language says them
    "required": lambda: _("This field is required."),
    "unknown field": lambda: _("This field is not part of the form."),
    "must be text": lambda: _("Enter text here."),
    "contains characters that are not text": lambda: _("Some characters here are not text."),
    "must be a number": lambda: _("Enter a number."),
    "must be a finite number": lambda: _("Enter a number."),
    "not a valid mobile phone number": lambda: _("Enter a valid mobile phone number."),
    "not a valid resident ID number (GB 11643)": lambda: _(
        "Enter a valid 18-character resident ID number."
    ),
    "not one of the choices": lambda: _("Choose one of the options."),
    "must be a date YYYY-MM-DD": lambda: _("Enter a date."),
}


BOUNDED = [  # problems with a bound in them
    (re.compile(r"at most (\d+) characters"), lambda n: _("At most %(n)s characters.") % {"n": n}),
    (re.compile(r"must be at least (\S+)"), lambda n: _("At least %(n)s.") % {"n": n}),
    (re.compile(r"must be at most (\S+)"), lambda n: _("At most %(n)s.") % {"n": n}),
]


def _problem(text: str) -> str:
    if text in PROBLEMS:
        return PROBLEMS[text]()
    for pattern, say in BOUNDED:
        if m := pattern.fullmatch(text or ""):
            return say(m.group(1))
    return _("Check this field.")


def _field_errors(exc: DomainError) -> dict[str, str]:
    """{"<participant>-<field key>": message} of an `invalid_form` refusal."""
    return {
        f"{e.get('participant', 0)}-{e.get('field')}": _problem(e.get("problem", ""))
        for e in exc.errors or []
    }


def _typed(field: FormField, raw: str):
    """A form field's text as the booking form's answers take it: numbers as numbers (the
    JSON API receives them so); everything else as typed."""
    if field.type == FieldType.NUMBER and raw:
        try:
            number = float(raw.replace(",", "."))
        except ValueError:
            return raw  # refused by the form's own check, with its message
        return int(number) if number.is_integer() else number
    return raw


def service_page(request, service_id: int):
    """A service: what it is, its price and cancellation rules; for a hall slot, a day strip,
    the day's slots with the places left, the number of places and the booking form."""
    service = _service(service_id)
    if service.kind == ServiceKind.REMOTE:
        return _call_service(request, service)
    if service.kind == ServiceKind.ON_SITE:
        return _onsite_service(request, service)
    if service.kind != ServiceKind.HALL_SLOT:
        return render(request, "web/customer/service.html", {"service": service, "slots": None})
    day = _chosen_day(request, service)
    fields = list(FormField.objects.filter(service=service))
    context = {
        "service": service,
        "day": day,
        "days": _days(service, day),
        "slots": _slots(service, day),
        "fields": fields,
        "places": int(request.POST.get("places") or 1) if request.method == "POST" else 1,
        "place_choices": range(1, min(MAX_PLACES, service.per_user_limit or MAX_PLACES) + 1),
        "rules": _rules(service),
        "chosen": request.POST.get("slot") or request.GET.get("slot") or "",
        "answers": {},
        "errors": {},
        "poll_seconds": settings.YUYUE_SLOT_POLL_SECONDS,
        "slots_url": request.path,
    }
    if request.method == "POST":
        if not request.user.is_authenticated:
            return HttpResponseRedirect(_sign_in_url(request))
        return _book(request, service, context)
    part = request.GET.get("part") if request.headers.get("HX-Request") else None
    if part == "slots":  # the slots again (every 10 s): one that filled says so
        return render(request, "web/customer/_slots.html", context)
    if part == "people":  # the number of places changed: a form per person, typed values kept
        try:
            context["places"] = max(1, min(int(request.GET.get("places") or 1), MAX_PLACES))
        except ValueError:
            context["places"] = 1
        context["answers"] = {k: v for k, v in request.GET.items() if "-" in k}
        return render(request, "web/customer/_people.html", context)
    return render(request, "web/customer/service.html", context)


def _rules(service: Service) -> dict:
    rules = service.refund_rules or {}
    return {
        "free_hours": rules.get("free_hours", 0),
        "fee_percent": int(rules.get("fee_percent", 0)),
    }


def _book(request, service: Service, context: dict):
    try:
        places = int(request.POST.get("places") or 1)
        slot_id = int(request.POST.get("slot") or 0)
    except ValueError:
        places, slot_id = 0, 0
    context["places"] = max(1, places)
    typed = [
        {f.key: request.POST.get(f"{i}-{f.key}", "").strip() for f in context["fields"]}
        for i in range(max(1, places))
    ]
    context["answers"] = {
        f"{i}-{key}": value for i, a in enumerate(typed) for key, value in a.items()
    }
    answers = [{f.key: _typed(f, a[f.key]) for f in context["fields"]} for a in typed]
    if not slot_id:
        context["error"] = _("Choose a time first.")
        return render(request, "web/customer/service.html", context, status=400)
    participants = [{"answers": a} for a in answers] if context["fields"] else None
    if request.POST.get("action") == "wait":  # the slot is full: wait for a place in it
        try:
            waitlist.join_waitlist(
                actor=request.user, slot_id=slot_id, places=places, participants=participants
            )
        except DomainError as exc:
            context["error"] = exc.message()
            context["errors"] = _field_errors(exc) if exc.code == "invalid_form" else {}
            context["slots"] = _slots(service, context["day"])
            return render(request, "web/customer/service.html", context, status=exc.status)
        return HttpResponseRedirect(reverse("customer:bookings") + "?waiting=1")
    try:
        booking = book_slot(
            actor=request.user, slot_id=slot_id, places=places, participants=participants
        )
    except DomainError as exc:
        if exc.code == "slot_full":
            context["can_wait"] = True
        if exc.code == "invalid_form":
            context["errors"] = _field_errors(exc)
            context["error"] = _("Please correct the fields marked below.")
        else:
            context["error"] = exc.message()
        context["slots"] = _slots(service, context["day"])  # what is left now
        return render(request, "web/customer/service.html", context, status=exc.status)
    target = (
        "customer:pay" if booking.status == BookingStatus.AWAITING_PAYMENT else "customer:booking"
    )
    return HttpResponseRedirect(reverse(target, args=[booking.pk]))


# --- a service at the customer's place ----------------------------------------------------------


def _point(request) -> tuple[float, float] | None:
    """Where the customer is: the browser's location (lat, lng), else the centre of the area
    they chose (`area`)."""
    try:
        lat = float(request.POST.get("lat") or request.GET.get("lat") or "")
        lng = float(request.POST.get("lng") or request.GET.get("lng") or "")
    except ValueError:
        chosen = area_point(request.POST.get("area") or request.GET.get("area"))
        return chosen[:2] if chosen else None
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        return None
    return lat, lng


QUOTE_LINES = {  # a quote's lines (pricing.prices.price) as a customer reads them
    "base": lambda: _("Service"),
    "area": lambda: _("Area"),
    "people": lambda: _("Extra people"),
    "peak": lambda: _("Peak hours"),
    "weekend": lambda: _("Weekend"),
    "holiday": lambda: _("Public holiday"),
    "travel": lambda: _("Travel"),
    "calendar_unknown": lambda: _("Holidays of that year are not known yet"),
}


def _onsite_options(request, service: Service) -> tuple[dict, dict]:
    """The options the service is priced by (area in m², people), as typed and as priced."""
    data = request.POST if request.method == "POST" else request.GET
    rules = service.pricing or {}
    typed, options = {}, {}
    if rules.get("per_m2_fen"):
        typed["area_m2"] = data.get("area_m2", "").strip()
        if typed["area_m2"]:
            try:
                options["area_m2"] = int(typed["area_m2"])
            except ValueError:
                options["area_m2"] = typed["area_m2"]  # refused by the quote, with its message
    if rules.get("per_person_fen"):
        typed["people"] = data.get("people", "1")
        try:
            options["people"] = int(typed["people"])
        except ValueError:
            options["people"] = 1
    return typed, options


def _onsite_service(request, service: Service):
    """At the customer's place: where (the browser's location or a chosen district), the
    options the service is priced by, then the day's times at which some provider can come
    there, each at its price, the chosen one's quote line by line (peak hours, weekend, public
    holiday, travel), the address, and the order at the quote's price; the platform finds the
    provider (`pricing.prices.make_quote` and `dispatch.ordering.place_onsite_order`, the API's
    own)."""
    point = _point(request)
    day = _chosen_day(request, service)
    tz = zone(service.merchant.timezone)
    typed, options = _onsite_options(request, service)
    data = request.POST if request.method == "POST" else request.GET
    keep = {"lat": point[0], "lng": point[1]} if point else {}
    context = {
        "service": service,
        "point": point,
        "day": day,
        "days": _days(service, day, **keep, **{k: v for k, v in typed.items() if v}),
        "rules": _rules(service),
        "typed": typed,
        "address": request.POST.get("address", "") or _default_address_text(request),
        "saved": default_address(request.user),
        "areas": areas() if point is None else [],
        "notes": request.POST.get("notes", ""),
        "chosen": data.get("start", ""),
        "times": [],
    }
    if point is not None:
        free = provider_availability(service=service, day=day, lat=point[0], lng=point[1], limit=50)
        starts = sorted({t for row in free for t in row["starts"]})
        # a unit's price is the price list's of the (local) day: one look-up for all its starts
        unit = unit_price(service, starts[0]) if starts else None
        try:
            if not starts:  # the options are checked even on a day with no time free
                price_of(service, starts_at=timezone.now(), options=options)
            priced = [price_of(service, starts_at=t, options=options, unit=unit) for t in starts]
        except DomainError as exc:  # an option out of bounds: said, and priced without it
            context["option_error"] = exc.message()
            priced = [price_of(service, starts_at=t, unit=unit) for t in starts]
        context["times"] = [
            {"value": t.isoformat(), "label": _at(t, tz).strftime("%H:%M"), "price": total}
            for t, (total, _lines) in zip(starts, priced, strict=True)
        ]
        chosen = next((i for i, t in enumerate(starts) if t.isoformat() == context["chosen"]), None)
        if chosen is not None and "option_error" not in context:
            total, lines = price_of(
                service, starts_at=starts[chosen], options=options, lat=point[0], lng=point[1]
            )
            context["quote"] = {"total": total, "lines": _quote_lines(lines)}
    if request.htmx and request.GET.get("part") == "quote":
        return render(request, "web/customer/_quote.html", context)
    if request.method == "POST":
        if not request.user.is_authenticated:
            return HttpResponseRedirect(_sign_in_url(request))
        try:
            if point is None:
                raise DomainError("invalid_input", _("Share where you are first."))
            if not context["chosen"]:
                raise DomainError("invalid_input", _("Choose a time first."))
            if context["notes"].strip():
                options["notes"] = context["notes"].strip()[:300]
            starts_at = dt.datetime.fromisoformat(context["chosen"])
            quote = make_quote(
                actor=request.user,
                service_id=service.pk,
                starts_at=starts_at,
                options=options,
                lat=point[0],
                lng=point[1],
            )
            booking = place_onsite_order(
                actor=request.user,
                service_id=service.pk,
                starts_at=starts_at,
                address=context["address"],
                lat=point[0],
                lng=point[1],
                quote_id=quote.pk,
            )
        except DomainError as exc:
            context["error"] = exc.message()
            return render(request, "web/customer/onsite_service.html", context, status=exc.status)
        unpaid = booking.payment_status == PaymentStatus.UNPAID
        return HttpResponseRedirect(
            reverse("customer:pay" if unpaid else "customer:booking", args=[booking.pk])
        )
    return render(request, "web/customer/onsite_service.html", context)


def _quote_lines(lines: list[dict]) -> list[dict]:
    out = []
    for line in lines:
        say = QUOTE_LINES.get(line["item"])
        label = say() if say else line["item"]
        if line["item"] == "travel":
            label = _("Travel (%(km)s km)") % {"km": line.get("km")}
        out.append({"label": label, "fen": line["fen"], "item": line["item"]})
    return out


def _default_address_text(request) -> str:
    """What an order's address field starts with: the customer's default address, if any."""
    if request.method == "POST":
        return ""
    saved = default_address(request.user)
    return saved.address if saved else ""


# --- a voice consultation ------------------------------------------------------------------------


def _call_service(request, service: Service):
    """A timed call: the day's consultants with their rate and free starts, a length in the
    service's steps, what it may cost; booked by `book_provider` (billed by the meter after)."""
    rules = metering.rules_from(service.call_rules)
    day = _chosen_day(request, service)
    tz = zone(service.merchant.timezone)
    lengths = list(
        range(service.step_minutes, min(rules.max_minutes, 120) + 1, service.step_minutes)
    )
    try:
        minutes = int(request.POST.get("minutes") or request.GET.get("minutes") or lengths[0])
    except ValueError:
        minutes = lengths[0]
    rates = dict(Provider.objects.filter(services=service).values_list("pk", "rate_per_minute_fen"))
    consultants = []
    for row in provider_availability(service=service, day=day, limit=20):
        rate = rates.get(row["provider_id"]) or service.base_price_fen
        row["starts"] = _long_enough(row["starts"], minutes, service)
        consultants.append(
            {
                "id": row["provider_id"],
                "name": row["name"],
                "rate": rate,
                "most": metering.charge(minutes * 60, rate, rules),
                "starts": [
                    {
                        "value": f"{row['provider_id']}|{t.isoformat()}",
                        "label": f"{_at(t, tz):%H:%M}",
                    }
                    for t in row["starts"]
                ],
            }
        )
    context = {
        "service": service,
        "rules": rules,
        "day": day,
        "days": _days(service, day, minutes=minutes),
        "lengths": lengths,
        "minutes": minutes,
        "consultants": consultants,
        "chosen": request.POST.get("start", ""),
    }
    if request.method == "POST":
        if not request.user.is_authenticated:
            return HttpResponseRedirect(_sign_in_url(request))
        try:
            provider_id, _sep, starts = context["chosen"].partition("|")
            if not starts:
                raise DomainError("invalid_input", _("Choose a consultant and a time first."))
            booking = book_provider(
                actor=request.user,
                service_id=service.pk,
                provider_id=int(provider_id),
                starts_at=dt.datetime.fromisoformat(starts),
                minutes=minutes,
            )
        except (DomainError, ValueError) as exc:
            context["error"] = exc.message() if isinstance(exc, DomainError) else _("Try again.")
            status = exc.status if isinstance(exc, DomainError) else 400
            return render(request, "web/customer/call_service.html", context, status=status)
        return HttpResponseRedirect(reverse("customer:booking", args=[booking.pk]))
    return render(request, "web/customer/call_service.html", context)


def _long_enough(starts: list[dt.datetime], minutes: int, service: Service) -> list[dt.datetime]:
    """The starts from which a call of `minutes` is free throughout: availability gives the
    starts of the service's own length, so a longer call needs each later start it covers."""
    free = set(starts)
    extra = max(0, minutes - service.duration_minutes)
    steps = range(0, extra + 1, service.step_minutes)
    return [t for t in starts if all(t + dt.timedelta(minutes=k) in free for k in steps)]


@login_required(login_url="customer:sign-in")
@require_POST
def join_call(request, booking_id: int):
    """Into the call's room: the room signs in with a bearer token, given to this page's holder
    in the address's fragment (never sent to a server, never in a log)."""
    booking = _mine(request, booking_id)
    if booking.channel != "call":
        raise Http404
    key, _token = issue_token(user=request.user, via="page")
    return HttpResponseRedirect(f"{reverse('call', args=[booking.pk])}#token={key}")


# --- paying -------------------------------------------------------------------------------------


def _mine(request, booking_id: int) -> Booking:
    """The signed-in customer's booking; anyone else's is not found, as a missing one is."""
    booking = (
        Booking.objects.select_related("service", "merchant", "slot__hall", "provider")
        .filter(pk=booking_id, customer=request.user)
        .first()
    )
    if booking is None:
        raise Http404
    return booking


GATEWAY_LABELS = {
    "sandbox": lambda: _("Card (sandbox)"),
    "wechat": lambda: _("WeChat Pay"),
    "alipay": lambda: _("Alipay"),
}


def page_gateways(request, booking: Booking | None = None) -> list[str]:
    """The gateways this page can pay through: the sandbox where it is on; WeChat Pay's JSAPI
    inside WeChat for a customer signed in with WeChat; Alipay's web checkout where its keys are
    set (each gateway's own `check` says whether it can take this order)."""
    offered = []
    wechat = "MicroMessenger" in request.headers.get("User-Agent", "")
    for name in ("wechat", "alipay", "sandbox"):
        if name == "sandbox" and not settings.YUYUE_SANDBOX_PAYMENTS:
            continue
        if name == "wechat" and not wechat:
            continue
        try:
            get_gateway(name).check(
                BillingPayment(customer=request.user, booking=booking, gateway=name)
            )
        except DomainError:
            continue
        offered.append(name)
    return offered


def _pay_choices(request) -> tuple[str, str | int | None, bool]:
    """The coupon (the best one: "auto", "none", or a claim's id) and whether to spend points."""
    data = request.POST if request.method == "POST" else request.GET
    raw = data.get("coupon") or "auto"
    if raw in ("auto", "none"):
        coupon = None if raw == "none" else "auto"
    else:
        try:
            coupon = int(raw)
        except ValueError:
            raw, coupon = "auto", "auto"
    return raw, coupon, data.get("points") == "1"


@login_required(login_url="customer:sign-in")
@require_http_methods(["GET", "POST"])
def pay(request, booking_id: int):
    """What paying this order costs now — the level discount, a coupon of the customer's
    choosing (the best by default), points if wanted — by the same computation as the payment;
    paying it from the wallet or through a gateway (the sandbox in development, WeChat Pay
    inside WeChat, Alipay); a gateway payment already started can be resumed."""
    booking = _mine(request, booking_id)
    if booking.series_id:  # a date of a package: the package is paid as one
        return HttpResponseRedirect(reverse("customer:package", args=[booking.series_id]))
    if booking.payment_status != PaymentStatus.UNPAID:
        return HttpResponseRedirect(reverse("customer:booking", args=[booking.pk]))
    raw, coupon, use_points = _pay_choices(request)
    balance = loyalty.points_balance(request.user.pk)
    points = balance if use_points else 0
    gateways = page_gateways(request, booking)
    context = {
        "booking": booking,
        "tz": zone(booking.merchant.timezone),
        "coupon": raw,
        "use_points": use_points,
        "points_balance": balance,
        "gateways": [{"name": g, "label": GATEWAY_LABELS[g]()} for g in gateways],
    }
    if request.method == "POST":
        how = request.POST.get("how", "wallet")
        try:
            if how == "wallet":
                payments.pay_with_wallet(
                    actor=request.user, booking_id=booking.pk, coupon=coupon, points=points
                )
                url = reverse("customer:booking", args=[booking.pk])
                return HttpResponseRedirect(f"{url}?paid=1")
            if how not in gateways:
                raise DomainError("invalid_input", _("Choose how to pay."))
            payment, params = payments.start_gateway_payment(
                actor=request.user, booking_id=booking.pk, gateway=how, coupon=coupon
            )
            return _to_gateway(request, booking, payment, params)
        except DomainError as exc:
            context["error"] = exc.message()
    try:
        context["checkout"] = compute(booking, coupon=coupon, points=points)
    except DomainError as exc:  # a coupon that does not apply (any more): the best instead
        context.setdefault("error", exc.message())
        context["coupon"] = "auto"
        context["checkout"] = compute(booking, coupon="auto", points=points)
    c = context["checkout"]
    context["claims"] = [
        {"id": claim.pk, "name": claim.coupon.name, "off": off}
        for claim, off in usable_claims(request.user.pk, booking, c.price_fen - c.level_fen)
    ]
    context["wallet"] = payments.wallet(request.user.pk)
    context["open"] = (
        BillingPayment.objects.filter(
            booking=booking, status=BillingPaymentStatus.CREATED, gateway="sandbox"
        )
        .order_by("-created_at")
        .first()
    )
    if request.htmx and request.GET.get("part") == "summary":
        return render(request, "web/customer/_pay_summary.html", context)
    return render(
        request, "web/customer/pay.html", context, status=400 if "error" in context else 200
    )


def _to_gateway(request, booking: Booking | None, payment, params: dict):
    """On to the gateway: the sandbox's page, Alipay's checkout, or WeChat's JSAPI in this
    page (the `wx.requestPayment` parameters the API gives a mini-program)."""
    if payment.gateway == "alipay":
        return HttpResponseRedirect(params["pay_url"])
    if payment.gateway == "wechat":
        done = _after_gateway(payment)
        return render(
            request,
            "web/customer/wechat_pay.html",
            {"booking": booking, "params": params, "done": done, "payment": payment},
        )
    return HttpResponseRedirect(reverse("customer:sandbox-pay", args=[payment.out_trade_no]))


@login_required(login_url="customer:sign-in")
@require_http_methods(["GET", "POST"])
def sandbox_pay(request, out_trade_no: str):
    """The sandbox gateway's own checkout page (development): pay or decline; the sandbox then
    notifies the platform over HTTP like a real gateway (a job), and the booking page waits."""
    payment = (
        BillingPayment.objects.select_related("booking__service")
        .filter(out_trade_no=out_trade_no, customer=request.user, gateway="sandbox")
        .first()
    )
    if payment is None or not settings.YUYUE_SANDBOX_PAYMENTS:
        raise Http404
    if request.method == "POST":
        from yuyue.billing.tasks import sandbox_notify

        sandbox_notify.enqueue(out_trade_no, decline=request.POST.get("decline") == "1")
        return HttpResponseRedirect(_after_gateway(payment))
    return render(request, "web/customer/sandbox_pay.html", {"payment": payment})


def _after_gateway(payment) -> str:
    """Where the customer waits for a gateway's word: the order's page, or the wallet's."""
    if payment.booking_id:
        return reverse("customer:booking", args=[payment.booking_id]) + "?paying=1"
    return reverse("customer:wallet") + f"?topping={payment.out_trade_no}"


# --- following and cancelling --------------------------------------------------------------------


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
    return render(request, "web/customer/booking.html", context)


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


@login_required(login_url="customer:sign-in")
@require_http_methods(["GET", "POST"])
def wallet_page(request):
    """The wallet: cash (available, held), bonus, points with what expires soon, membership
    level, coupons (mine, and those to claim), topping up (a stored-value plan or an amount,
    through a gateway), and the latest moves from the ledger."""
    context = {
        "gateways": [{"name": g, "label": GATEWAY_LABELS[g]()} for g in page_gateways(request)]
    }
    if request.method == "POST":
        try:
            if request.POST.get("action") == "claim":
                claim_coupon(actor=request.user, coupon_id=_whole(request.POST.get("coupon")))
                return HttpResponseRedirect(reverse("customer:wallet") + "#coupons")
            how = request.POST.get("how", "")
            if how not in page_gateways(request):
                raise DomainError("invalid_input", _("Choose how to pay."))
            plan = request.POST.get("plan") or ""
            amount = None
            if plan in ("", "other"):
                amount = _yuan_to_fen(request.POST.get("amount"))
                if amount is None:
                    raise DomainError("invalid_amount", max=payments.MAX_TOP_UP)
            payment, params = payments.start_gateway_payment(
                actor=request.user,
                top_up_fen=amount,
                plan_id=None if amount is not None else _whole(plan),
                gateway=how,
            )
            return _to_gateway(request, None, payment, params)
        except DomainError as exc:
            context["error"] = exc.message()
    tz = zone(settings.TIME_ZONE)
    cash = payments.wallet(request.user.pk)
    history = payments.wallet_history(request.user.pk)
    for row in history:
        row["at"] = _at(row["at"], tz)
        say = MOVES.get(row["kind"])
        row["label"] = say() if say else row["kind"]
    level, upcoming, spent = loyalty.level_of(request.user.pk)
    topping = request.GET.get("topping")
    if topping:
        context["topping"] = BillingPayment.objects.filter(
            out_trade_no=topping, customer=request.user
        ).first()
    mine = my_unused_claims(request.user.pk)
    held = {c.coupon_id for c in mine}
    context.update(
        cash=cash,
        bonus=loyalty.bonus_account(request.user.pk),
        points=loyalty.points_summary(request.user.pk, limit=0),
        level=level,
        next_level=upcoming,
        spent=spent,
        history=history,
        plans=TopUpPlan.objects.filter(active=True),
        coupons=mine,
        to_claim=[c for c in claimable(limit=20) if c.pk not in held],
        tz=tz,
    )
    status = 400 if "error" in context else 200
    return render(request, "web/customer/wallet.html", context, status=status)


def _whole(raw) -> int:
    try:
        return int(raw or 0)
    except ValueError:
        return 0


def _yuan_to_fen(raw) -> int | None:
    """An amount typed in yuan, as whole fen; None if it is not a positive amount."""
    try:
        value = Decimal((raw or "").strip().replace(",", ""))
    except InvalidOperation:
        return None
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        return None
    return int(value * 100)


MOVES = {  # ledger transfer kinds as a customer reads them
    "top_up": lambda: _("Top-up"),
    "top_up_bonus": lambda: _("Top-up bonus"),
    "top_up_refund": lambda: _("Top-up refunded"),
    "order_payment": lambda: _("Payment"),
    "refund": lambda: _("Refund"),
    "call_charge": lambda: _("Call"),
    "call_fee": lambda: _("Call fee"),
    "cancellation_fee": lambda: _("Cancellation fee"),
    "no_show_fee": lambda: _("No-show fee"),
}


def notice_text(notice: Notice) -> str:
    """What a notice says, in the page's language."""
    p = notice.payload or {}
    if notice.kind == "booking.reminder":
        minutes = p.get("minutes_before")
        if minutes == 0:
            return _("%(service)s starts now.") % {"service": p.get("service", "")}
        return _("%(service)s starts in %(minutes)s minutes.") % {
            "service": p.get("service", ""),
            "minutes": minutes,
        }
    texts = {
        "waitlist.booked": lambda: (
            _("A place came free: you are booked for %(service)s.")
            % {"service": p.get("service", "")}
        ),
        "need.application": lambda: _("A provider applied to your request."),
        "need.cancelled": lambda: _("A request you applied to was cancelled."),
        "need.picked": lambda: _("You were picked for a request."),
        "need.declined": lambda: _("Another provider was picked for a request."),
        "call.warning": lambda: _("Your call is about to run out of time."),
        "slot.closed": lambda: (
            _("%(merchant)s closed %(service)s at %(when)s; your booking stands.")
            % {
                "merchant": p.get("merchant", ""),
                "service": p.get("service", ""),
                "when": p.get("starts_at", ""),
            }
            + (" " + p["message"] if p.get("message") else "")
        ),
        "coupon.given": lambda: (
            _("You were given a coupon: %(coupon)s. It is in your wallet.")
            % {"coupon": p.get("coupon", "")}
        ),
        "application.approved": lambda: _("You are a provider now: open Work to start."),
        "application.rejected": lambda: (
            _("Your application to be a provider was not approved: %(reason)s")
            % {"reason": p.get("reason", "")}
        ),
        "merchant_application.approved": lambda: (
            _("%(business)s is approved: open Shop to set up your store.")
            % {"business": p.get("business", "")}
        ),
        "merchant_application.rejected": lambda: (
            _("%(business)s was not approved: %(reason)s")
            % {"business": p.get("business", ""), "reason": p.get("reason", "")}
        ),
        "staff.added": lambda: (
            _("You were added to the staff of %(merchant)s: open Shop to start.")
            % {"merchant": p.get("merchant", "")}
        ),
    }
    return texts.get(notice.kind, lambda: notice.kind)()


@login_required(login_url="customer:sign-in")
def notices_page(request):
    """My notices, newest first, unread ones marked; each can be marked read."""
    tz = zone(settings.TIME_ZONE)
    rows = notices.my_notices(actor=request.user, limit=100)
    for n in rows:
        n.text = notice_text(n)
        n.local = _at(n.created_at, tz)
    return render(request, "web/customer/notices.html", {"rows": rows})


@login_required(login_url="customer:sign-in")
@require_POST
def notice_read(request, notice_id: int):
    try:
        notice = notices.mark_read(actor=request.user, notice_id=notice_id)
    except DomainError as exc:
        raise Http404 from exc
    if request.htmx:  # the notice again, read, in place
        notice.text = notice_text(notice)
        notice.local = _at(notice.created_at, zone(settings.TIME_ZONE))
        return render(request, "web/customer/_notice.html", {"n": notice})
    return HttpResponseRedirect(reverse("customer:notices"))


def unread_badge(request):
    """The header's count of unread notices (htmx asks again now and then)."""
    return render(request, "web/customer/_badge.html")


def nav(request) -> dict:
    """Context for every page: the signed-in person's unread notices and messages."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "unread": Notice.objects.filter(user_id=user.pk, read_at__isnull=True).count(),
        "chat_unread": unread_count(user.pk),
    }
