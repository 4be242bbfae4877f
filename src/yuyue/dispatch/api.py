"""Dispatch API: on-site orders, offers and grabs for providers, the operators' queue."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Query, Router, Schema, Status

from yuyue.accounts.auth import bearer, require_staff
from yuyue.accounts.models import StaffRole
from yuyue.core.errors import DomainError
from yuyue.core.idempotency import created_once, key_header
from yuyue.orders.models import Booking
from yuyue.orders.schemas import BookingOut, ProviderOrderOut, booking_out, provider_order_out

from . import ordering, services
from .models import Offer, OfferStatus

router = Router(tags=["dispatch"])


def _load(pk: int) -> Booking:
    return Booking.objects.select_related(
        "service", "merchant", "slot__hall", "provider", "customer"
    ).get(pk=pk)


class OnsiteIn(Schema):
    service_id: int
    starts_at: dt.datetime
    address: str = Field(min_length=1, max_length=300)
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    quantity: int = Field(1, ge=1, le=ordering.MAX_QUANTITY, strict=True)
    options: dict = {}
    quote_id: int | None = Field(None, description="Lock the price of a quote from /api/quotes")


class CheckOut(Schema):
    available: bool
    providers: int
    alternatives: list[dt.datetime]


@router.get("/orders/onsite/check", response=CheckOut, auth=None)
def check(
    request,
    service_id: int,
    starts_at: dt.datetime,
    lat: float = Query(..., ge=-90, le=90),
    lng: float = Query(..., ge=-180, le=180),
    quantity: int = Query(1, ge=1, le=ordering.MAX_QUANTITY),
):
    """Can anyone come then? If not, the nearest times someone can. Creates nothing."""
    return ordering.check_onsite(
        service_id=service_id, starts_at=starts_at, lat=lat, lng=lng, quantity=quantity
    )


@router.post("/orders/onsite", response={201: BookingOut, 200: BookingOut}, auth=bearer)
def place(request, body: OnsiteIn, idempotency_key: str | None = key_header()):
    """Order an on-site service at an address and time; the platform finds the provider."""

    def create():
        booking = ordering.place_onsite_order(actor=request.auth, **body.model_dump())
        return booking_out(_load(booking.pk))

    return created_once(
        request, body, idempotency_key, scope="onsite", create=create, schema=BookingOut
    )


class OfferOut(Schema):
    id: int
    status: str
    expires_at: dt.datetime
    travel_minutes: float | None
    order: ProviderOrderOut


@router.get("/provider/offers", response=list[OfferOut], auth=bearer)
def my_offers(request):
    provider = (
        getattr(request.auth, "provider", None) if hasattr(request.auth, "provider") else None
    )
    if provider is None:
        raise DomainError("forbidden")
    offers = Offer.objects.filter(provider=provider, status=OfferStatus.PENDING)
    return [
        {
            "id": o.pk,
            "status": o.status,
            "expires_at": o.expires_at,
            "travel_minutes": o.travel_minutes,
            "order": provider_order_out(_load(o.booking_id)),
        }
        for o in offers
    ]


@router.post("/provider/offers/{offer_id}/accept", response=ProviderOrderOut, auth=bearer)
def accept(request, offer_id: int):
    booking = services.accept_offer(actor=request.auth, offer_id=offer_id)
    return provider_order_out(_load(booking.pk))


class ReasonIn(Schema):
    reason: str = Field("", max_length=200)


@router.post("/provider/offers/{offer_id}/reject", response={204: None}, auth=bearer)
def reject(request, offer_id: int, body: ReasonIn):
    services.reject_offer(actor=request.auth, offer_id=offer_id, reason=body.reason)
    return Status(204, None)


@router.post("/provider/orders/{booking_id}/release", response=ProviderOrderOut, auth=bearer)
def release(request, booking_id: int, body: ReasonIn):
    """The provider gives an accepted order back (recorded as a breach)."""
    booking = services.provider_release_order(
        actor=request.auth, booking_id=booking_id, reason=body.reason
    )
    return provider_order_out(_load(booking.pk))


class FeedItem(Schema):
    distance_km: float
    order: ProviderOrderOut


@router.get("/provider/grab-feed", response=list[FeedItem], auth=bearer)
def grab_feed(request, limit: int = Query(50, ge=1, le=200)):
    """Open orders near you that fit your skills and free time, nearest first."""
    return [
        {"distance_km": round(d, 2), "order": provider_order_out(_load(b.pk))}
        for b, d in services.grab_feed(actor=request.auth, limit=limit)
    ]


@router.post("/provider/grab/{booking_id}", response=ProviderOrderOut, auth=bearer)
def grab(request, booking_id: int):
    """Grab an open order 抢单: the first qualified provider wins."""
    booking = services.grab_order(actor=request.auth, booking_id=booking_id)
    return provider_order_out(_load(booking.pk))


@router.get("/ops/dispatch/queue", response=list[BookingOut], auth=bearer)
def queue(request, merchant_id: int | None = None):
    """Orders dispatch gave up on. Operators see all; a merchant's managers see theirs."""
    qs = Booking.objects.filter(needs_operator=True, status="awaiting_provider")
    if not getattr(request.auth, "is_operator", False):
        if merchant_id is None:
            raise DomainError("forbidden")
        require_staff(request.auth, merchant_id, (StaffRole.OWNER, StaffRole.MANAGER))
    if merchant_id is not None:
        qs = qs.filter(merchant_id=merchant_id)
    return [booking_out(_load(b.pk)) for b in qs.order_by("starts_at")[:500]]


class AssignIn(Schema):
    provider_id: int
    reason: str = Field("", max_length=200)


class ReassignIn(AssignIn):
    from_provider_id: int


@router.post("/ops/orders/{booking_id}/assign", response=BookingOut, auth=bearer)
def assign(request, booking_id: int, body: AssignIn):
    booking = services.assign_order(
        actor=request.auth, booking_id=booking_id, provider_id=body.provider_id, reason=body.reason
    )
    return booking_out(_load(booking.pk))


@router.post("/ops/orders/{booking_id}/reassign", response=BookingOut, auth=bearer)
def reassign(request, booking_id: int, body: ReassignIn):
    """Move an accepted order to another provider; name the provider you saw on it."""
    booking = services.reassign_order(
        actor=request.auth,
        booking_id=booking_id,
        provider_id=body.provider_id,
        from_provider_id=body.from_provider_id,
        reason=body.reason,
    )
    return booking_out(_load(booking.pk))


# --- live tracking ---------------------------------------------------------------------------


class LocationIn(Schema):
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    accuracy_m: float | None = Field(None, ge=0, le=100_000)


class TrackingOut(Schema):
    booking_id: int
    status: str
    lat: float | None
    lng: float | None
    at: dt.datetime | None
    eta_minutes: float | None


@router.post("/provider/orders/{booking_id}/location", response=TrackingOut, auth=bearer)
def post_location(request, booking_id: int, body: LocationIn):
    """Where the provider is now (at most one position per few seconds)."""
    from . import tracking

    return tracking.post_location(actor=request.auth, booking_id=booking_id, **body.dict())


@router.get("/bookings/{booking_id}/tracking", response=TrackingOut, auth=bearer)
def get_tracking(request, booking_id: int):
    """The provider's latest position and ETA (or watch `ws/bookings/<id>/track/?token=`)."""
    from . import tracking

    return tracking.latest(actor=request.auth, booking_id=booking_id)


# --- task hall 需求大厅 -------------------------------------------------------------------------


class NeedIn(Schema):
    category_id: int
    title: str = Field(min_length=1, max_length=100)
    description: str = Field("", max_length=2000)
    starts_at: dt.datetime
    duration_minutes: int = Field(120, ge=15, le=1440)
    address: str = Field(min_length=1, max_length=300)
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)
    budget_fen: int = Field(gt=0, strict=True)


class ApplicationOut(Schema):
    id: int
    provider_id: int
    provider_name: str
    price_fen: int
    message: str
    status: str


class NeedOut(Schema):
    id: int
    category_id: int
    title: str
    description: str
    starts_at: dt.datetime
    duration_minutes: int
    address: str
    budget_fen: int
    status: str
    booking_id: int | None
    applications: list[ApplicationOut]


def _need_out(need, viewer) -> dict:
    from .models import Application

    apps = Application.objects.filter(need=need).select_related("provider")
    owner = need.customer_id == viewer.pk or getattr(viewer, "is_operator", False)
    if not owner:
        apps = apps.filter(provider__user=viewer)
    return {
        "id": need.pk,
        "category_id": need.category_id,
        "title": need.title,
        "description": need.description,
        "starts_at": need.starts_at,
        "duration_minutes": need.duration_minutes,
        "address": need.address if owner else need.address.split(" ")[0],
        "budget_fen": need.budget_fen,
        "status": need.status,
        "booking_id": need.booking_id,
        "applications": [
            {
                "id": a.pk,
                "provider_id": a.provider_id,
                "provider_name": a.provider.display_name,
                "price_fen": a.price_fen,
                "message": a.message,
                "status": a.status,
            }
            for a in apps
        ],
    }


@router.post("/needs", response={201: NeedOut}, auth=bearer)
def publish(request, body: NeedIn, idempotency_key: str | None = key_header()):
    """Publish a need with a budget; qualified providers near it may apply."""
    from . import taskhall

    return created_once(
        request,
        body,
        idempotency_key,
        scope="need",
        create=lambda: _need_out(
            taskhall.publish_need(actor=request.auth, **body.model_dump()), request.auth
        ),
        schema=NeedOut,
    )


@router.get("/needs", response=list[NeedOut], auth=bearer)
def my_needs(request):
    from .models import Need

    return [
        _need_out(n, request.auth)
        for n in Need.objects.filter(customer=request.auth).order_by("-created_at")[:100]
    ]


@router.get("/needs/{need_id}", response=NeedOut, auth=bearer)
def need_detail(request, need_id: int):
    from .models import Need
    from .taskhall import qualifies

    need = Need.objects.filter(pk=need_id).first()
    user = request.auth
    provider = getattr(user, "provider", None) if hasattr(user, "provider") else None
    visible = need is not None and (
        need.customer_id == user.pk
        or user.is_operator
        or (
            provider is not None
            and (qualifies(provider, need) or need.applications.filter(provider=provider).exists())
        )
    )
    if not visible:
        raise DomainError("not_found")
    return _need_out(need, user)


@router.post("/needs/{need_id}/cancel", response=NeedOut, auth=bearer)
def cancel_need(request, need_id: int):
    from . import taskhall

    return _need_out(taskhall.cancel_need(actor=request.auth, need_id=need_id), request.auth)


class PickIn(Schema):
    application_id: int


@router.post("/needs/{need_id}/pick", response=BookingOut, auth=bearer)
def pick(request, need_id: int, body: PickIn):
    """Pick one application: it becomes an order with that provider; the others are told."""
    from . import taskhall

    booking = taskhall.pick_application(
        actor=request.auth, need_id=need_id, application_id=body.application_id
    )
    return booking_out(_load(booking.pk))


class NeedCard(Schema):
    distance_km: float
    need: NeedOut


@router.get("/provider/needs", response=list[NeedCard], auth=bearer)
def needs_for_me(request):
    """Open needs you qualify for, nearest first."""
    from . import taskhall

    return [
        {"distance_km": round(d, 2), "need": _need_out(n, request.auth)}
        for n, d in taskhall.open_needs_for(actor=request.auth)
    ]


class ApplyIn(Schema):
    price_fen: int = Field(gt=0, strict=True)
    message: str = Field("", max_length=500)


@router.post("/provider/needs/{need_id}/apply", response={201: ApplicationOut}, auth=bearer)
def apply(request, need_id: int, body: ApplyIn):
    from . import taskhall

    a = taskhall.apply_to_need(actor=request.auth, need_id=need_id, **body.dict())
    return Status(
        201,
        {
            "id": a.pk,
            "provider_id": a.provider_id,
            "provider_name": a.provider.display_name,
            "price_fen": a.price_fen,
            "message": a.message,
            "status": a.status,
        },
    )


@router.post("/provider/applications/{application_id}/withdraw", response={204: None}, auth=bearer)
def withdraw(request, application_id: int):
    from . import taskhall

    taskhall.withdraw_application(actor=request.auth, application_id=application_id)
    return Status(204, None)
