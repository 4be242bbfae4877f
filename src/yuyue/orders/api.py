"""Booking API: customers book, list, view and cancel; merchant staff list, export, check in."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema
from pydantic import BaseModel

from yuyue.accounts.auth import ANY_STAFF, bearer, bearer_deferred, require_staff, staff_role
from yuyue.accounts.models import StaffRole
from yuyue.catalog.models import Merchant
from yuyue.core.answers import as_built
from yuyue.core.crypto import mask_id_number, mask_phone
from yuyue.core.errors import DomainError
from yuyue.core.idempotency import created_once, key_header
from yuyue.core.paging import offset_param
from yuyue.core.timeutil import zone

from . import fulfilment, queries, services
from .models import Booking

router = Router(tags=["bookings"])


class ParticipantOut(Schema):
    position: int
    answers: dict


class OrderBase(Schema):
    id: int
    channel: str
    status: str
    payment_status: str
    pay_before: dt.datetime | None
    address: str
    lat: float | None
    lng: float | None
    quantity: int
    merchant_id: int
    merchant_name: str
    service_id: int
    service_name: str
    slot_id: int | None
    hall_name: str | None
    provider_id: int | None
    provider_name: str | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    local_start: str = Field(description="Start in the merchant's zone")
    timezone: str
    places: int
    price_fen: int
    created_at: dt.datetime
    cancelled_at: dt.datetime | None
    cancel_reason: str
    checked_in_at: dt.datetime | None
    participants: list[ParticipantOut]


class BookingOut(OrderBase):
    code: str = Field(description="Check-in / verification code 核销码: show it, never share it")
    qr_url: str


class ProviderOrderOut(OrderBase):
    """What the provider sees: everything but the customer's verification code."""

    customer_name: str


class StaffBookingOut(BookingOut):
    customer_name: str
    customer_phone: str


def _masked_answers(booking: Booking, answers: dict, full: bool) -> dict:
    if full:
        return answers
    kinds = {f.key: f.type for f in booking.service.form_fields.all()}
    out = {}
    for key, value in answers.items():
        if kinds.get(key) == "id_number":
            value = mask_id_number(value)
        elif kinds.get(key) == "phone":
            value = mask_phone(value)
        out[key] = value
    return out


def booking_out(booking: Booking, *, full_answers: bool = True, staff: bool = False) -> dict:
    tzname = booking.merchant.timezone
    data = {
        "id": booking.pk,
        "code": booking.code,
        "qr_url": f"/bookings/{booking.code}/qr.svg",
        "status": booking.status,
        "channel": booking.channel,
        "payment_status": booking.payment_status,
        "pay_before": booking.pay_before,
        "address": booking.address,
        "lat": booking.lat,
        "lng": booking.lng,
        "quantity": booking.quantity,
        "merchant_id": booking.merchant_id,
        "merchant_name": booking.merchant.name,
        "service_id": booking.service_id,
        "service_name": booking.service.name,
        "slot_id": booking.slot_id,
        "hall_name": booking.slot.hall.name if booking.slot_id else None,
        "provider_id": booking.provider_id,
        "provider_name": booking.provider.display_name if booking.provider_id else None,
        "starts_at": booking.starts_at,
        "ends_at": booking.ends_at,
        "local_start": booking.starts_at.astimezone(zone(tzname)).strftime("%Y-%m-%dT%H:%M"),
        "timezone": tzname,
        "places": booking.places,
        "price_fen": booking.price_fen,
        "created_at": booking.created_at,
        "cancelled_at": booking.cancelled_at,
        "cancel_reason": booking.cancel_reason,
        "checked_in_at": booking.checked_in_at,
        "participants": [
            {
                "position": p.position,
                "answers": _masked_answers(booking, p.answers or {}, full_answers),
            }
            for p in booking.participants.all()
        ],
    }
    if staff:
        data["customer_name"] = booking.customer.name
        data["customer_phone"] = (
            booking.customer.phone if full_answers else booking.customer.masked_phone
        )
    return data


def booking_created(request, booking: Booking) -> HttpResponse:
    """201 with the booking as built by `booking_out` (tested equal to the validated view)."""
    return as_built(request, booking_out(booking), status=201)


def _load(booking_id: int) -> Booking:
    return Booking.objects.select_related(
        "service", "merchant", "slot__hall", "provider", "customer"
    ).get(pk=booking_id)


# --- customers -------------------------------------------------------------------------------


# Request bodies are plain pydantic models: ninja's Schema wraps every value it validates in a
# getter for ORM objects, which a JSON body never is (a fifth of a hall booking's parsing).
class ParticipantIn(BaseModel):
    answers: dict = {}


class BookSlotIn(BaseModel):
    slot_id: int
    places: int = Field(1, strict=True, description="Places to book, one participant each")
    participants: list[ParticipantIn] = Field(default=[], max_length=1000)


class BookProviderIn(Schema):
    service_id: int
    provider_id: int
    starts_at: dt.datetime
    minutes: int | None = Field(
        None, strict=True, description="Timed calls: the length you book (the service's steps)."
    )
    quote_id: int | None = Field(None, description="Order at a quote's price (locks the quote).")


@router.post("/bookings", response={201: BookingOut, 200: BookingOut}, auth=bearer_deferred)
def book_slot(request, body: BookSlotIn, idempotency_key: str | None = key_header()):
    """Book places in a hall slot. Send an Idempotency-Key to make retries safe."""

    def book(actor):
        return services.book_slot(
            actor=actor,
            slot_id=body.slot_id,
            places=body.places,
            participants=[p.model_dump() for p in body.participants],
        )

    if idempotency_key is None:  # nothing to store; the token is looked up with the slot
        return booking_created(request, book(request.auth))
    user = request.auth.user()
    return created_once(
        request,
        body,
        idempotency_key,
        scope="book_slot",
        create=lambda: booking_out(book(user)),
        schema=BookingOut,
        user=user,
    )


@router.post("/provider-bookings", response={201: BookingOut, 200: BookingOut}, auth=bearer)
def book_provider(request, body: BookProviderIn, idempotency_key: str | None = key_header()):
    """Book a chosen provider's time for an on-site or remote service."""

    def create():
        booking = services.book_provider(
            actor=request.auth,
            service_id=body.service_id,
            provider_id=body.provider_id,
            starts_at=body.starts_at,
            minutes=body.minutes,
            quote_id=body.quote_id,
        )
        return booking_out(_load(booking.pk))

    return created_once(
        request, body, idempotency_key, scope="book_provider", create=create, schema=BookingOut
    )


@router.get("/bookings", response=list[BookingOut], auth=bearer)
def my_bookings(
    request,
    view: Literal["all", "upcoming", "checked_in", "expired", "cancelled"] = "all",
    offset: int = offset_param(),
    limit: int = Query(50, ge=1, le=200),
):
    """Your bookings: all, upcoming, checked in, expired without check-in, or cancelled."""
    qs = queries.customer_bookings(request.auth, view).prefetch_related(
        "participants", "service__form_fields"
    )
    return [booking_out(b) for b in qs[offset : offset + limit]]


def _own(request, booking_id: int) -> Booking:
    booking = Booking.objects.filter(pk=booking_id, customer=request.auth).first()
    if booking is None:  # someone else's booking looks exactly like a missing one
        raise DomainError("not_found")
    return _load(booking.pk)


@router.get("/bookings/{booking_id}", response=BookingOut, auth=bearer)
def my_booking(request, booking_id: int):
    return booking_out(_own(request, booking_id))


class CancelIn(Schema):
    reason: str = Field("", max_length=300)


@router.post("/bookings/{booking_id}/cancel", response=BookingOut, auth=bearer)
def cancel_my_booking(request, booking_id: int, body: CancelIn | None = None):
    booking = services.cancel_booking(
        actor=request.auth, booking_id=booking_id, reason=body.reason if body else ""
    )
    return booking_out(_load(booking.pk))


# --- merchant staff --------------------------------------------------------------------------


def _full_view(user, merchant_id: int) -> bool:
    return bool(user.is_operator) or staff_role(user, merchant_id) in (
        StaffRole.OWNER,
        StaffRole.MANAGER,
    )


def _staff_merchant(request, merchant_id: int) -> Merchant:
    merchant = Merchant.objects.filter(pk=merchant_id).first()
    if merchant is None:
        raise DomainError("not_found")
    require_staff(request.auth, merchant_id, ANY_STAFF)
    return merchant


StatusFilter = Literal["booked", "checked_in", "cancelled", "cancelled_by_staff", "cancelled_any"]


@router.get("/merchants/{merchant_id}/bookings", response=list[StaffBookingOut], auth=bearer)
def merchant_bookings(
    request,
    merchant_id: int,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    service_id: int | None = None,
    hall_id: int | None = None,
    slot_id: int | None = None,
    status: StatusFilter | None = None,
    q: str = Query("", max_length=50),
    offset: int = offset_param(),
    limit: int = Query(100, ge=1, le=500),
):
    merchant = _staff_merchant(request, merchant_id)
    qs = queries.merchant_bookings(
        merchant,
        date_from=date_from,
        date_to=date_to,
        service_id=service_id,
        hall_id=hall_id,
        slot_id=slot_id,
        status=status,
        q=q,
    ).prefetch_related("service__form_fields")
    full = _full_view(request.auth, merchant_id)
    return [booking_out(b, full_answers=full, staff=True) for b in qs[offset : offset + limit]]


@router.get(
    "/merchants/{merchant_id}/bookings/export.xlsx",
    auth=bearer,
    response={200: None},
    openapi_extra={
        "responses": {
            200: {
                "description": "An Excel workbook, one row per participant",
                "content": {
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}
                },
            }
        }
    },
)
def export_bookings(
    request,
    merchant_id: int,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    service_id: int | None = None,
    hall_id: int | None = None,
    slot_id: int | None = None,
    status: StatusFilter | None = None,
):
    """The booking list as .xlsx, form answers as columns, times in the merchant's zone."""
    merchant = _staff_merchant(request, merchant_id)
    from .export import export_bookings_xlsx

    qs = queries.merchant_bookings(
        merchant,
        date_from=date_from,
        date_to=date_to,
        service_id=service_id,
        hall_id=hall_id,
        slot_id=slot_id,
        status=status,
    )
    content = export_bookings_xlsx(actor=request.auth, merchant=merchant, bookings=qs)
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = f"bookings-{merchant.slug}-{date_from or 'all'}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


class CheckInIn(Schema):
    code: str = Field(min_length=1, max_length=40)


@router.post("/merchants/{merchant_id}/checkins", response=StaffBookingOut, auth=bearer)
def check_in(request, merchant_id: int, body: CheckInIn):
    """Redeem a check-in code 核销 (typed, or read from the booking's QR code)."""
    booking = services.check_in(actor=request.auth, merchant_id=merchant_id, code=body.code)
    return booking_out(
        _load(booking.pk), full_answers=_full_view(request.auth, merchant_id), staff=True
    )


class StaffCancelIn(Schema):
    reason: str = Field(min_length=1, max_length=300)


@router.post(
    "/merchants/{merchant_id}/bookings/{booking_id}/cancel", response=StaffBookingOut, auth=bearer
)
def staff_cancel(request, merchant_id: int, booking_id: int, body: StaffCancelIn):
    booking = Booking.objects.filter(pk=booking_id, merchant_id=merchant_id).first()
    if booking is None:
        raise DomainError("not_found")
    booking = services.cancel_booking_by_staff(
        actor=request.auth, booking=booking, reason=body.reason
    )
    return booking_out(
        _load(booking.pk), full_answers=_full_view(request.auth, merchant_id), staff=True
    )


# --- providers -------------------------------------------------------------------------------


def provider_order_out(booking: Booking) -> dict:
    data = booking_out(booking, full_answers=False)
    data.pop("code")
    data.pop("qr_url")
    data["customer_name"] = booking.customer.name
    return data


class PointIn(Schema):
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)


class CodePointIn(PointIn):
    code: str = Field(min_length=1, max_length=40)


@router.get("/provider/orders", response=list[ProviderOrderOut], auth=bearer)
def provider_orders(
    request,
    view: Literal["active", "done", "all"] = "active",
    offset: int = offset_param(),
    limit: int = Query(50, ge=1, le=200),
):
    """The signed-in provider's orders: active (accepted to in service), done, or all."""
    provider = (
        getattr(request.auth, "provider", None) if hasattr(request.auth, "provider") else None
    )
    if provider is None:
        raise DomainError("forbidden")
    qs = Booking.objects.filter(provider=provider).select_related(
        "service", "merchant", "slot__hall", "provider", "customer"
    )
    if view == "active":
        qs = qs.filter(status__in=["accepted", "departed", "arrived", "in_service"]).order_by(
            "starts_at"
        )
    elif view == "done":
        qs = qs.filter(status="completed")
    return [provider_order_out(b) for b in qs[offset : offset + limit]]


@router.post("/provider/orders/{booking_id}/depart", response=ProviderOrderOut, auth=bearer)
def provider_depart(request, booking_id: int, body: PointIn):
    """The provider sets off to the customer (with where they are)."""
    booking = fulfilment.depart(actor=request.auth, booking_id=booking_id, **body.dict())
    return provider_order_out(_load(booking.pk))


@router.post("/provider/orders/{booking_id}/arrive", response=ProviderOrderOut, auth=bearer)
def provider_arrive(request, booking_id: int, body: PointIn):
    """The provider is at the customer's door."""
    booking = fulfilment.arrive(actor=request.auth, booking_id=booking_id, **body.dict())
    return provider_order_out(_load(booking.pk))


@router.post(
    "/provider/orders/{booking_id}/customer-absent", response=ProviderOrderOut, auth=bearer
)
def provider_customer_absent(request, booking_id: int, body: PointIn):
    """The provider is at the door, has waited, and nobody is there: a no-show, refunded by the
    service's rules (what is kept pays the provider's share too)."""
    booking = fulfilment.customer_absent(actor=request.auth, booking_id=booking_id, **body.dict())
    return provider_order_out(_load(booking.pk))


@router.post("/provider/orders/{booking_id}/start", response=ProviderOrderOut, auth=bearer)
def provider_start(request, booking_id: int, body: CodePointIn):
    """The provider starts the work with the customer's verification code."""
    booking = fulfilment.start_service(actor=request.auth, booking_id=booking_id, **body.dict())
    return provider_order_out(_load(booking.pk))


@router.post("/provider/orders/{booking_id}/complete", response=ProviderOrderOut, auth=bearer)
def provider_complete(request, booking_id: int, body: CodePointIn):
    """The provider finishes the work with the customer's verification code."""
    booking = fulfilment.complete_service(actor=request.auth, booking_id=booking_id, **body.dict())
    return provider_order_out(_load(booking.pk))


# --- recurring bookings (monthly packages 包月) ------------------------------------------------


class SeriesRule(Schema):
    weekdays: list[int] = Field(min_length=1, max_length=7)
    start: str = Field(pattern=r"^\d{2}:\d{2}$")
    date_from: dt.date
    date_to: dt.date


class SeriesIn(Schema):
    service_id: int
    provider_id: int
    rule: SeriesRule


class SeriesBookIn(SeriesIn):
    skip_conflicts: bool = False


class OccurrenceOut(Schema):
    starts_at: dt.datetime
    ends_at: dt.datetime
    ok: bool
    problem: str | None


class SeriesOut(Schema):
    id: int
    rule: dict
    previous_id: int | None
    occurrences: list[BookingOut]


def _series_out(series, bookings) -> dict:
    return {
        "id": series.pk,
        "rule": series.rule,
        "previous_id": series.previous_id,
        "occurrences": [booking_out(_load(b.pk)) for b in bookings],
    }


def _rule(rule: SeriesRule) -> dict:
    return {
        "weekdays": rule.weekdays,
        "start": rule.start,
        "date_from": rule.date_from.isoformat(),
        "date_to": rule.date_to.isoformat(),
    }


@router.post("/series/preview", response=list[OccurrenceOut], auth=bearer)
def preview_series(request, body: SeriesIn):
    """Every date of a recurring booking and whether it can be booked, before booking."""
    from . import series

    return series.preview_series(
        service_id=body.service_id, provider_id=body.provider_id, rule=_rule(body.rule)
    )


@router.post("/series", response={201: SeriesOut}, auth=bearer)
def book_series(request, body: SeriesBookIn, idempotency_key: str | None = key_header()):
    """Book a provider on a weekly rule over a date range (a monthly package 包月)."""
    from . import series

    def create():
        s, bookings = series.book_series(
            actor=request.auth,
            service_id=body.service_id,
            provider_id=body.provider_id,
            rule=_rule(body.rule),
            skip_conflicts=body.skip_conflicts,
        )
        return _series_out(s, bookings)

    return created_once(
        request, body, idempotency_key, scope="book_series", create=create, schema=SeriesOut
    )


class SeriesChangeIn(Schema):
    from_date: dt.date
    rule: SeriesRule


@router.post("/series/{series_id}/change", response=SeriesOut, auth=bearer)
def change_series(request, series_id: int, body: SeriesChangeIn):
    """Change a series from a date on: later dates are cancelled and booked on the new rule."""
    from . import series

    s, bookings = series.change_series_from(
        actor=request.auth, series_id=series_id, from_date=body.from_date, rule=_rule(body.rule)
    )
    return _series_out(s, bookings)
