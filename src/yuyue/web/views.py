import datetime as dt
from collections import defaultdict

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db.models import Count, F, Min, Prefetch, Q
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext_lazy

from yuyue.accounts.models import Provider
from yuyue.catalog import places
from yuyue.catalog.models import Category, Merchant, MerchantStatus, Service, ServiceKind
from yuyue.core.errors import DomainError
from yuyue.core.timeutil import zone
from yuyue.engagement import announcements, favourites
from yuyue.engagement.models import Audience
from yuyue.scheduling.models import SlotStatus, TimeSlot
from yuyue.web.customer.onsite import _point

KIND_LABELS = {
    ServiceKind.HALL_SLOT: gettext_lazy("Time slots"),
    ServiceKind.ON_SITE: gettext_lazy("At your home"),
    ServiceKind.REMOTE: gettext_lazy("Remote session"),
}


def home(request):
    """Active merchants with their active services: price, duration, kind, where and who;
    narrowed by words (`q`: a merchant's or a service's name) and a category."""
    q = request.GET.get("q", "").strip()[:100]
    category = request.GET.get("category", "").strip()[:80]
    services = Service.objects.filter(active=True).order_by("kind", "name")
    if category:
        services = services.filter(Q(category__slug=category) | Q(category__parent__slug=category))
    if q:
        services = services.filter(Q(name__icontains=q) | Q(merchant__name__icontains=q))
    merchants = Merchant.objects.filter(status=MerchantStatus.ACTIVE)
    if q or category:
        merchants = merchants.filter(services__in=services).distinct()
    merchants = list(
        merchants.prefetch_related(
            Prefetch("services", queryset=services, to_attr="active_services"), "halls"
        ).order_by("name")
    )
    _describe(merchants)
    categories = Category.objects.filter(
        parent__isnull=True, services__active=True, services__merchant__status="active"
    ).distinct()
    where = _where(request)
    if where is not None:
        merchants = places.nearest_first(merchants, where["lat"], where["lng"])
    suggested, again = [], []
    if request.user.is_authenticated and not (q or category):
        at = (where or {}).get("lat"), (where or {}).get("lng")
        suggested = favourites.recommend(actor=request.user, lat=at[0], lng=at[1], limit=4)
        again = favourites.book_again(actor=request.user, limit=4)
    return render(
        request,
        "web/home.html",
        {
            "merchants": merchants,
            "q": q,
            "category": category,
            "categories": categories,
            "where": where,
            "areas": places.areas(),
            "area_id": where.get("area") if where else None,
            "keep": {k: v for k, v in (("q", q), ("category", category)) if v},
            "suggested": suggested,
            "announcements": announcements.current(Audience.CUSTOMERS),
            "again": again,
        },
    )


def _describe(merchants: list[Merchant]) -> None:
    """What the home page says of each service: its kind, the halls with slots a customer can
    still book and the next of them (on the merchant's clock), the providers who do it."""
    service_ids = [s.id for m in merchants for s in m.active_services]
    # Where each hall-slot service can be booked now, and its next slot a customer can still
    # book: open, with a place left, before the service's booking deadline.
    now = timezone.now()
    bookable = Q(pk__in=[])
    for service in (s for m in merchants for s in m.active_services):
        if service.kind != ServiceKind.HALL_SLOT:
            continue
        if service.deadline_rule == "slot_end":
            in_time = Q(ends_at__gt=now, starts_at__gte=now)
        else:
            in_time = Q(starts_at__gt=now + dt.timedelta(minutes=service.deadline_minutes))
        bookable |= Q(service_id=service.pk) & in_time
    upcoming = (
        TimeSlot.objects.filter(bookable, status=SlotStatus.OPEN)
        .filter(Q(capacity__isnull=True) | Q(booked__lt=F("capacity")))
        .values("service_id", "hall__name")
        .annotate(slots=Count("id"), first=Min("starts_at"))
        .order_by("hall__name")
    )
    halls, slots, first = defaultdict(list), defaultdict(int), {}
    for row in upcoming:
        sid = row["service_id"]
        halls[sid].append(row["hall__name"])
        slots[sid] += row["slots"]
        first[sid] = min(first.get(sid, row["first"]), row["first"])
    providers = dict(
        Provider.objects.filter(services__in=service_ids, verified=True, active=True)
        .values("services")
        .annotate(n=Count("id", distinct=True))
        .values_list("services", "n")
    )
    for merchant in merchants:
        try:
            tz = zone(merchant.timezone)
        except DomainError:
            tz = zone(settings.YUYUE_DEFAULT_TIMEZONE)
        for service in merchant.active_services:
            service.kind_label = KIND_LABELS.get(service.kind, service.get_kind_display())
            service.hall_names = halls.get(service.id, [])
            service.open_slots = slots.get(service.id, 0)
            # On the merchant's clock: the date filter would show the site's zone.
            service.next_slot = first[service.id].astimezone(tz) if service.id in first else None
            service.provider_count = providers.get(service.id, 0)


def _where(request) -> dict | None:
    """Where the customer browses from: the browser's location or a chosen area, remembered in
    the session for the next pages; "anywhere" forgets it."""
    if request.GET.get("where") == "anywhere":
        request.session.pop("where", None)
        return None
    point = _point(request)
    if point is not None:
        chosen = places.area_point(request.GET.get("area"))
        where = {"lat": point[0], "lng": point[1]}
        if chosen and "lat" not in request.GET:
            where.update(area=chosen[2].pk, label=str(chosen[2]))
        request.session["where"] = where
        return where
    return request.session.get("where")


def avatar(request, user_id: int, version: int):
    """A person's avatar; its version is in the address, so it is cached for good."""
    from yuyue.accounts.models import User

    row = User.objects.filter(pk=user_id, avatar_version=version).values_list("avatar", flat=True)
    data = row.first()
    if not data:
        raise Http404
    response = HttpResponse(bytes(data), content_type="image/jpeg")
    response["Cache-Control"] = "public, max-age=31536000, immutable"
    return response


def work_photo(request, photo_id: int):
    """A picture of finished work: to the order's customer and provider, operators and the
    merchant's staff; to nobody else (not found, as a missing one)."""
    from django.http import FileResponse

    from yuyue.orders.models import WorkPhoto
    from yuyue.orders.states import roles_of

    photo = WorkPhoto.objects.select_related("booking").filter(pk=photo_id).first()
    if photo is None or not request.user.is_authenticated:
        raise Http404
    if not roles_of(request.user, photo.booking) & {"customer", "provider", "staff", "operator"}:
        raise Http404
    response = FileResponse(photo.file.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, no-store"
    return response


QR_TYPES = {"svg": "image/svg+xml", "png": "image/png"}


def booking_qr(request, code: str, kind: str = "svg"):
    """The booking's check-in code as a standard QR code (never a Micro QR, which most phone
    scanners cannot read), as SVG (a standalone document: it shows in an <img>) or PNG."""
    import io

    import segno

    from yuyue.core.codes import CHECKIN_ALPHABET, CHECKIN_LENGTH

    # Drawn from the code alone, without asking the database: the image tells nobody whether a
    # code exists.
    if len(code) != CHECKIN_LENGTH or set(code) - set(CHECKIN_ALPHABET) or kind not in QR_TYPES:
        raise Http404
    qr = segno.make_qr(code, error="m")
    out = io.BytesIO()
    if kind == "svg":
        qr.save(out, kind="svg", scale=8, border=4, xmldecl=False, title=code)
    else:
        qr.save(out, kind="png", scale=8, border=4)
    response = HttpResponse(out.getvalue(), content_type=QR_TYPES[kind])
    response["Cache-Control"] = "private, max-age=3600"
    return response


def call_page(request, booking_id: int):
    """The call in the browser: audio over WebRTC, signalled through ws/calls/<id>/; the token
    comes in the URL's fragment (#token=…, never sent to the server) or from localStorage."""
    return render(
        request,
        "web/call.html",
        {"booking_id": booking_id, "ice_servers": settings.YUYUE_ICE_SERVERS},
    )


def store_picture(request, slug: str, kind: str, picture_id: int = 0):
    """A store's logo or one of its photos: public, as the store page is; the file's name is in
    the address, so a new picture has a new address and an old one can be cached for good."""
    from django.http import FileResponse

    from yuyue.catalog.models import Merchant, MerchantPhoto

    if kind == "logo":
        merchant = Merchant.objects.filter(slug=slug).exclude(logo="").first()
        file = merchant.logo if merchant else None
    else:
        photo = MerchantPhoto.objects.filter(pk=picture_id, merchant__slug=slug).first()
        file = photo.file if photo else None
    if not file:
        raise Http404
    response = FileResponse(file.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "public, max-age=86400"
    return response


def service_picture(request, photo_id: int):
    """A picture of a service: public, as the service page is."""
    from django.http import FileResponse

    from yuyue.catalog.models import ServicePhoto

    photo = ServicePhoto.objects.filter(pk=photo_id).first()
    if photo is None:
        raise Http404
    response = FileResponse(photo.file.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@login_required(login_url="customer:sign-in")
def find_place(request):
    """Where an address is (`catalog.geocoding.geocode`, AMap's service), as JSON for the forms
    that take a place (a merchant's application, the store): {"lat", "lng", "formatted"}, or
    {"error"} in the page's language."""
    from yuyue.catalog.geocoding import geocode
    from yuyue.core.throttle import take

    try:
        take("geocode", account=str(request.user.pk))
        return JsonResponse(geocode(request.GET.get("address", "")))
    except DomainError as exc:
        return JsonResponse({"error": exc.message(), "code": exc.code}, status=exc.status)
