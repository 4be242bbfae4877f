"""The customer's pages, the part every flow shares: signing in and out, a merchant's page, the
helpers of the booking pages (a service, its days, its rules; one's own booking) and the context
of every page (unread notices and messages). The flows have modules of their own: booking (hall
slots, calls), onsite, paying, following (my bookings, cancel, reschedule), wallet (and notices),
providers, packages, needs, reviews, cases, favourites, profile.

Every page calls the same service functions as the JSON API; a refusal is the service's
`DomainError`, shown in the page's language. Pages use the session (signed in with Django's
`login`); nothing of another customer is reachable: a booking id that is not yours is a 404, like
one that does not exist.
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import login, logout
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from yuyue.accounts import services as accounts
from yuyue.accounts.models import Provider
from yuyue.catalog.models import Merchant, Service
from yuyue.core.errors import DomainError
from yuyue.core.throttle import client_address
from yuyue.core.timeutil import zone
from yuyue.engagement import announcements
from yuyue.engagement.chat import unread_count
from yuyue.engagement.models import Audience
from yuyue.engagement.reviews import published_reviews
from yuyue.notifications.models import Notice
from yuyue.orders.models import Booking

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
            "announcements": announcements.current(
                Audience.CUSTOMERS, merchant_ids=[merchant.pk], platform=False
            ),
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


def _rules(service: Service) -> dict:
    rules = service.refund_rules or {}
    return {
        "free_hours": rules.get("free_hours", 0),
        "fee_percent": int(rules.get("fee_percent", 0)),
    }


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
