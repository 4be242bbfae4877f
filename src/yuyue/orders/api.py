"""Booking API for customers: book a hall slot or a provider, list, view and cancel, series."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Query, Router, Schema, Status
from pydantic import BaseModel

from yuyue.accounts.auth import bearer, bearer_deferred
from yuyue.core.errors import DomainError
from yuyue.core.idempotency import created_once, key_header
from yuyue.core.paging import offset_param
from yuyue.core.schemas import CLOCK, Day, Moment, Weekday, Whole

from . import queries, services, waitlist
from .models import Booking
from .rescheduling import reschedule_booking
from .schemas import BookingOut, booking_created, booking_out, load_booking

router = Router(tags=["bookings"])


# Request bodies are plain pydantic models: ninja's Schema wraps every value it validates in a
# getter for ORM objects, which a JSON body never is (a fifth of a hall booking's parsing).
class ParticipantIn(BaseModel):
    answers: dict = {}


class BookSlotIn(BaseModel):
    slot_id: int
    places: Whole = Field(1, description="Places to book, one participant each")
    participants: list[ParticipantIn] = Field(default=[], max_length=1000)


class BookProviderIn(Schema):
    service_id: int
    provider_id: int
    starts_at: Moment
    minutes: Whole | None = Field(
        None, description="Timed calls: the length you book (the service's steps)."
    )
    quote_id: int | None = Field(None, description="Order at a quote's price (locks the quote).")
    address: str = Field(
        "", max_length=300, description="On-site services: where the provider comes (needed)."
    )
    lat: float | None = Field(None, description="On-site: the address's point, if known.")
    lng: float | None = None
    notes: str = Field("", max_length=500, description="For the provider: door code, pets…")


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
            address=body.address,
            lat=body.lat,
            lng=body.lng,
            notes=body.notes,
        )
        return booking_out(load_booking(booking.pk))

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
    return load_booking(booking.pk)


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
    return booking_out(load_booking(booking.pk))


class RescheduleIn(Schema):
    slot_id: int


@router.post("/bookings/{booking_id}/reschedule", response=BookingOut, auth=bearer)
def reschedule_my_booking(request, booking_id: int, body: RescheduleIn):
    """Move your hall-slot booking to another slot of the same service at the same price: the
    new place is taken before the old one is given back (slot_full leaves it where it was)."""
    booking = reschedule_booking(actor=request.auth, booking_id=booking_id, slot_id=body.slot_id)
    return booking_out(load_booking(booking.pk))


class WaitIn(BaseModel):
    slot_id: int
    places: Whole = Field(1, description="Places wanted, one participant each")
    participants: list[ParticipantIn] = Field(default=[], max_length=1000)


class WaitOut(Schema):
    id: int
    slot_id: int
    places: int
    status: str
    starts_at: dt.datetime
    service_id: int
    created_at: dt.datetime


def _wait_out(entry) -> dict:
    return {
        "id": entry.pk,
        "slot_id": entry.slot_id,
        "places": entry.places,
        "status": entry.status,
        "starts_at": entry.slot.starts_at,
        "service_id": entry.slot.service_id,
        "created_at": entry.created_at,
    }


@router.post("/waitlist", response={201: WaitOut}, auth=bearer)
def join_waitlist(request, body: WaitIn):
    """Wait for places in a full slot, with the booking form answered now: when places come
    back, those waiting are booked in the order they joined (a paid one then waits for payment).
    """
    entry = waitlist.join_waitlist(
        actor=request.auth,
        slot_id=body.slot_id,
        places=body.places,
        participants=[p.model_dump() for p in body.participants],
    )
    return Status(201, _wait_out(entry))


@router.get("/waitlist", response=list[WaitOut], auth=bearer)
def my_waitlist(request):
    """The slots you are waiting for."""
    return [_wait_out(e) for e in waitlist.my_waitlist(actor=request.auth)]


@router.delete("/waitlist/{entry_id}", response={204: None}, auth=bearer)
def leave_waitlist(request, entry_id: int):
    waitlist.leave_waitlist(actor=request.auth, entry_id=entry_id)
    return Status(204, None)


# --- merchant staff --------------------------------------------------------------------------


# --- recurring bookings (monthly packages 包月) ------------------------------------------------


class SeriesRule(Schema):
    weekdays: list[Weekday] = Field(min_length=1, max_length=7)
    start: str = Field(pattern=CLOCK)
    date_from: Day
    date_to: Day


class SeriesIn(Schema):
    service_id: int
    provider_id: int
    rule: SeriesRule


class SeriesBookIn(SeriesIn):
    skip_conflicts: bool = False
    address: str = Field("", max_length=300, description="Where the provider comes (needed).")
    lat: float | None = None
    lng: float | None = None


class OccurrenceOut(Schema):
    starts_at: dt.datetime
    ends_at: dt.datetime
    ok: bool
    problem: str | None


class SeriesOut(Schema):
    id: int
    rule: dict
    previous_id: int | None
    active: bool
    address: str
    price_fen: int = Field(description="The package's price: the sum of its dates' prices.")
    pay_before: dt.datetime | None = Field(description="Pay the package as one by then.")
    occurrences: list[BookingOut]


def _series_out(series, bookings) -> dict:
    series.refresh_from_db()
    return {
        "id": series.pk,
        "rule": series.rule,
        "previous_id": series.previous_id,
        "active": series.active,
        "address": series.address,
        "price_fen": series.price_fen,
        "pay_before": series.pay_before,
        "occurrences": [booking_out(load_booking(b.pk)) for b in bookings],
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
            address=body.address,
            lat=body.lat,
            lng=body.lng,
        )
        return _series_out(s, bookings)

    return created_once(
        request, body, idempotency_key, scope="book_series", create=create, schema=SeriesOut
    )


class SeriesChangeIn(Schema):
    from_date: Day
    rule: SeriesRule


@router.post("/series/{series_id}/change", response=SeriesOut, auth=bearer)
def change_series(request, series_id: int, body: SeriesChangeIn):
    """Change a series from a date on: later dates are cancelled and booked on the new rule."""
    from . import series

    s, bookings = series.change_series_from(
        actor=request.auth, series_id=series_id, from_date=body.from_date, rule=_rule(body.rule)
    )
    return _series_out(s, bookings)


@router.get("/series/{series_id}", response=SeriesOut, auth=bearer)
def get_series(request, series_id: int):
    """One of your packages with its dates."""
    from . import series

    return _series_out(*series.my_series(actor=request.auth, series_id=series_id))


class SeriesCancelIn(Schema):
    reason: str = Field("", max_length=300)


@router.post("/series/{series_id}/cancel", response=SeriesOut, auth=bearer)
def cancel_series(request, series_id: int, body: SeriesCancelIn | None = None):
    """Cancel a package as one: every date not yet served, each refunded by the service's
    rules."""
    from . import series

    reason = body.reason if body else ""
    return _series_out(
        *series.cancel_series(actor=request.auth, series_id=series_id, reason=reason)
    )


__all__ = ["BookingOut", "booking_out", "router"]
