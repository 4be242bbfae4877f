"""Placing an order, every channel: the one public way an order comes to be.

- `book_slot`: places in a hall slot (the hot path: its guarded write is `slot_writes`, batched
  with concurrent bookings);
- `book_provider`: a chosen provider's time, on site or a timed call;
- `place_order`: the insert every other channel uses (dispatch requests, task-hall picks,
  series occurrences, chosen providers, calls) inside its caller's transaction: a fresh check-in
  code, the first reminder, the quote it was priced by locked, the audit row, and
  `events.order_placed` for the parts above;
- `reserve_provider_time`: the guard on a provider's time that every path giving a provider an
  order goes through.

Locks, where they are taken, come in one order (yuyue.orders.locks).
"""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from yuyue.accounts.auth import BearerKey
from yuyue.accounts.models import Provider, User
from yuyue.catalog.forms import clean_answers
from yuyue.catalog.models import FormField, MerchantStatus, Service, ServiceKind
from yuyue.core import sql
from yuyue.core.audit import audit
from yuyue.core.codes import new_checkin_code
from yuyue.core.controls import race_control
from yuyue.core.errors import DomainError
from yuyue.core.timeutil import ahead, zone
from yuyue.pricing import metering
from yuyue.pricing.models import Quote
from yuyue.pricing.prices import (
    chosen_unit_price,
    listed_sql,
    unit_price,
    use_quote,
    valid_quote,
)
from yuyue.scheduling.availability import (
    booking_deadline,
    haversine_km,
    on_step,
    provider_works,
)
from yuyue.scheduling.models import ProviderReservation, SlotStatus, TimeSlot

from .batching import write_bookings
from .events import order_placed
from .metrics import placed, refusals_counted
from .models import Booking, BookingStatus, Channel, Participant, PaymentStatus
from .reminders import first_reminder_at
from .slot_writes import PendingBooking


def fmt_local(moment: dt.datetime, tzname: str) -> str:
    return moment.astimezone(zone(tzname)).strftime("%Y-%m-%d %H:%M")


def require_customer(actor) -> User:
    if not getattr(actor, "pk", None):
        raise DomainError("auth_required")
    return actor


def payment_terms(price_fen: int) -> dict:
    """Initial status fields for a new order: free orders skip payment, others must pay by
    `pay_before` (`payment.confirm_payment` moves them on when they are paid; the expiry sweep,
    `payment.expire_due_unpaid`, gives back what they hold when they are not)."""
    if price_fen <= 0:
        return {"payment_status": PaymentStatus.NOT_REQUIRED}
    return {
        "status": BookingStatus.AWAITING_PAYMENT,
        "payment_status": PaymentStatus.UNPAID,
        "pay_before": timezone.now() + dt.timedelta(minutes=settings.YUYUE_PAYMENT_MINUTES),
    }


def _insert_with_code(**fields) -> Booking:
    """Insert a booking with a fresh check-in code; a (very unlikely) code collision retries."""
    for _ in range(5):
        try:
            with transaction.atomic():
                booking = Booking(code=new_checkin_code(), **fields)
                booking.remind_at = first_reminder_at(booking)
                booking.save(force_insert=True)
            return booking
        except IntegrityError as exc:
            if "code" not in str(exc).lower():
                raise
    raise RuntimeError("could not draw a unique check-in code")


def place_order(
    *, actor, quote: Quote | None = None, audit_data: dict | None = None, **fields
) -> Booking:
    """Write a new order in the caller's transaction (every channel but hall slots). `fields`
    are the booking's columns, with its status and payment terms (`payment_terms`)."""
    assert transaction.get_connection().in_atomic_block, "place_order needs a transaction"
    booking = _insert_with_code(**fields)
    if quote is not None:
        use_quote(quote, booking)
    audit(actor, "booking.create", booking, **(audit_data or {}))
    order_placed.send(sender=Booking, booking=booking)
    placed(str(booking.channel))
    return booking


# --- hall slots ------------------------------------------------------------------------------


@cache
def _hall_sql() -> dict[str, str]:
    """book_slot's statements, written once (table and column names from the models)."""
    pk = sql.qn(TimeSlot._meta.pk.column)
    form_service = sql.column(FormField, "service")
    service_pk = sql.qn(Service._meta.pk.column)
    return {
        "slot_where": f"t0.{pk} = %s",
        "has_form": (
            f"EXISTS (SELECT 1 FROM {sql.table(FormField)} WHERE {form_service} = t1.{service_pk})"
        ),
        "listed": listed_sql("t1"),
        "fields_where": f"t0.{sql.qn(FormField._meta.get_field('service').column)} = %s",
        "fields_order": ", ".join(
            f"t0.{sql.qn(FormField._meta.get_field(f).column)}" for f in FormField._meta.ordering
        ),
    }


def _read_slot(actor, slot_id: int) -> tuple[User, TimeSlot]:
    """The slot with its service, merchant and hall in one statement; with a `BearerKey` not
    looked up yet, the token's lookup goes along (one statement, not two)."""
    key = actor if isinstance(actor, BearerKey) else None
    customer = None if key else require_customer(actor)
    # Statements on this path are built once (yuyue.core.sql): ORM query building was most of
    # a booking's cost. The guards are the same conditional statements as ever.
    annotate = {"has_form": _hall_sql()["has_form"], "listed": _hall_sql()["listed"]}
    if key:
        annotate["token_user"] = key.sql()
    slot = sql.select_one(
        TimeSlot,
        _hall_sql()["slot_where"],
        (key.params() if key else []) + [slot_id],
        related=("service", "service__merchant", "hall"),
        annotate=annotate,
    )
    if key:  # who it is comes first: a stranger learns nothing of the slot
        customer = key.resolve(slot.token_user) if slot else key.user()
    if slot is None:
        raise DomainError("not_found")
    return customer, slot


def _check_slot(slot: TimeSlot, places, now: dt.datetime) -> None:
    """Every rule of a hall booking that needs no lock."""
    service = slot.service
    if service.kind != ServiceKind.HALL_SLOT:
        raise DomainError("wrong_service_kind")
    if (
        isinstance(places, bool)
        or not isinstance(places, int)
        or not (1 <= places <= service.max_places_per_booking)
    ):
        raise DomainError("invalid_places", max=service.max_places_per_booking)
    if service.merchant.status != MerchantStatus.ACTIVE:
        raise DomainError("merchant_inactive")
    if not service.active:
        raise DomainError("service_inactive")
    if slot.status != SlotStatus.OPEN:
        raise DomainError("slot_closed")
    if now >= slot.ends_at:
        raise DomainError("slot_past")
    deadline = booking_deadline(slot, service)
    if now >= deadline:
        raise DomainError("booking_closed", deadline=fmt_local(deadline, service.merchant.timezone))


def _answers(slot: TimeSlot, places: int, participants: list | None) -> list[dict[str, Any]]:
    """Each place's answers to the service's booking form, checked; every field's error at once."""
    fields = (  # most services ask nothing: then no second statement
        sql.select(
            FormField,
            _hall_sql()["fields_where"],
            [slot.service.pk],
            order_by=_hall_sql()["fields_order"],
        )
        if slot.has_form
        else []
    )
    participants = participants or []
    if (fields or participants) and len(participants) != places:
        raise DomainError("participants_mismatch", places=places)
    answers: list[dict[str, Any]] = []
    errors: list[dict] = []
    for i, item in enumerate(participants):
        raw = item.get("answers") if isinstance(item, dict) else item
        try:
            answers.append(clean_answers(fields, raw, index=i))
        except DomainError as exc:
            errors.extend(exc.errors or [])
    if errors:
        raise DomainError("invalid_form", errors=errors)
    return answers or [{} for _ in range(places)]


@refusals_counted("hall_slot")
def book_slot(*, actor, slot_id: int, places: int, participants: list[dict] | None) -> Booking:
    """Book `places` places in a hall slot, one participant (with form answers) per place.

    `actor` is the customer, or a `BearerKey` not looked up yet (see `_read_slot`)."""
    customer, slot = _read_slot(actor, slot_id)
    now = timezone.now()
    _check_slot(slot, places, now)
    answers = _answers(slot, places, participants)
    service = slot.service
    price = unit_price(service, slot.starts_at, listed=slot.listed)[0] * places
    booking = Booking(
        customer=customer,
        merchant_id=service.merchant_id,
        service=service,
        slot=slot,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        places=places,
        quantity=places,
        price_fen=price,
        channel=Channel.HALL_SLOT,
        **payment_terms(price),
    )
    booking.remind_at = first_reminder_at(booking, now=now)
    # No answers (a service without a form) is stored as none: nothing to encrypt.
    people = [Participant(position=i, answers=a or None) for i, a in enumerate(answers)]
    # The guarded write (per-user limit, capacity), batched with concurrent bookings under load.
    write = race_control("write_bookings") or write_bookings
    write(PendingBooking(booking=booking, people=people, limit=service.per_user_limit))
    placed(Channel.HALL_SLOT.value)
    # Hand back what the answer needs, already loaded: no second round of queries.
    booking.slot, booking.service, booking.merchant, booking.customer = (
        slot,
        service,
        service.merchant,
        customer,
    )
    booking._prefetched_objects_cache = {"participants": people}
    return booking


# --- provider time ---------------------------------------------------------------------------


def _overlapping(provider_id: int, starts_at: dt.datetime, blocked_until: dt.datetime) -> bool:
    return ProviderReservation.objects.filter(
        provider_id=provider_id,
        active=True,
        starts_at__lt=blocked_until,
        blocked_until__gt=starts_at,
    ).exists()


def reserve_provider_time(
    *, provider_id: int, starts_at: dt.datetime, ends_at: dt.datetime, blocked_until: dt.datetime
) -> ProviderReservation:
    """Take a provider's time, or DomainError('provider_busy'). Call inside a transaction.

    The provider row is locked FOR UPDATE (serialising reservations of one person), the overlap
    is checked, and on PostgreSQL the exclusion constraint stands behind the check. Every path
    that gives a provider an order (chosen booking, accepted offer, grab, pick, assignment) goes
    through here.
    """
    assert transaction.get_connection().in_atomic_block, "reserve_provider_time needs a transaction"
    Provider.objects.select_for_update().filter(pk=provider_id).values_list("pk").get()
    if _overlapping(provider_id, starts_at, blocked_until):
        raise DomainError("provider_busy")
    try:
        with transaction.atomic():
            return ProviderReservation.objects.create(
                provider_id=provider_id,
                starts_at=starts_at,
                ends_at=ends_at,
                blocked_until=blocked_until,
            )
    except IntegrityError as exc:
        raise DomainError("provider_busy") from exc


def _check_provider(service: Service | None, provider: Provider | None) -> None:
    if service is None or provider is None:
        raise DomainError("not_found")
    if service.kind == ServiceKind.HALL_SLOT:
        raise DomainError("wrong_service_kind")
    if service.merchant.status != MerchantStatus.ACTIVE:
        raise DomainError("merchant_inactive")
    if not service.active:
        raise DomainError("service_inactive")
    if (
        not (provider.active and provider.verified)
        or not provider.services.filter(pk=service.pk).exists()
    ):
        raise DomainError("provider_unqualified")


def _call_minutes(service: Service, minutes: int | None) -> int:
    """A timed call's booked length: in the service's steps, up to its rules' maximum."""
    rules = metering.rules_from(service.call_rules)
    minutes = service.duration_minutes if minutes is None else minutes
    step = service.step_minutes
    if (
        isinstance(minutes, bool)
        or not isinstance(minutes, int)
        or not step <= minutes <= rules.max_minutes
        or minutes % step
    ):
        raise DomainError("invalid_call_length", step=step, max=rules.max_minutes)
    return minutes


def _provider_terms(customer, service, provider, starts_at, minutes, quote_id) -> dict:
    """Length, price, channel and payment of a chosen provider's order (a quote's price if one
    is given; a timed call's estimate by the meter's rules, paid after the call)."""
    if service.kind == ServiceKind.REMOTE:
        if quote_id is not None:
            raise DomainError("invalid_input", "Timed calls are billed by the meter, not quoted.")
        length = _call_minutes(service, minutes)
        rules = metering.rules_from(service.call_rules)
        price = metering.charge(length * 60, metering.rate_for(service, provider), rules)
        return {
            "length": length,
            "quote": None,
            "channel": Channel.CALL,
            "price_fen": price,
            "status": BookingStatus.ACCEPTED,
            "payment_status": PaymentStatus.METERED,
        }
    if minutes is not None and minutes != service.duration_minutes:
        raise DomainError("invalid_input", "Only timed calls are booked for a chosen length.")
    quote = None
    price = chosen_unit_price(service, provider, starts_at)
    if quote_id is not None:  # the order takes the quote's price and locks it
        quote = valid_quote(
            quote_id=quote_id,
            customer=customer,
            service_id=service.pk,
            starts_at=starts_at,
            quantity=1,
        )
        price = quote.total_fen
    return {
        "length": service.duration_minutes,
        "quote": quote,
        "channel": Channel.CHOSEN,
        "price_fen": price,
        **{"status": BookingStatus.ACCEPTED, **payment_terms(price)},
    }


def service_place(
    service: Service, provider: Provider, address: str, lat: float | None, lng: float | None
) -> dict:
    """Where a chosen provider goes for an on-site service: the address (needed), and the point
    if the customer's device gave one, which must lie in the provider's area. A timed call has
    no place."""
    if service.kind != ServiceKind.ON_SITE:
        return {}
    address = (address or "").strip()
    if not address:
        raise DomainError("address_required")
    if (lat is None) != (lng is None):
        raise DomainError("invalid_input", "Give both lat and lng, or neither.")
    if lat is not None and not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise DomainError("invalid_input", "lat is -90 to 90, lng -180 to 180.")
    if (
        lat is not None
        and provider.lat is not None
        and haversine_km(lat, lng, provider.lat, provider.lng) > provider.service_radius_km
    ):
        raise DomainError("outside_service_area")
    return {"address": address[:300], "lat": lat, "lng": lng}


@refusals_counted("chosen")
def book_provider(
    *,
    actor,
    service_id: int,
    provider_id: int,
    starts_at: dt.datetime,
    minutes: int | None = None,
    quote_id: int | None = None,
    address: str = "",
    lat: float | None = None,
    lng: float | None = None,
    notes: str = "",
) -> Booking:
    """Book a chosen provider's time for an on-site or remote service (with `notes` for the
    provider: the door code, a pet, what to bring).

    An on-site service needs the address the provider comes to (`service_place`); the price of
    a unit is the provider's own where they set one.

    A remote (timed call) service is booked for `minutes` of the customer's choosing (in the
    service's steps, up to its rules' maximum) and billed by the meter after the call: nothing is
    paid now, but the wallet must hold enough for the call's first hold (billing refuses the
    order otherwise, in its transaction)."""
    customer = require_customer(actor)
    service = Service.objects.select_related("merchant").filter(pk=service_id).first()
    provider = Provider.objects.select_related("merchant").filter(pk=provider_id).first()
    _check_provider(service, provider)
    place = service_place(service, provider, address, lat, lng)
    ahead(starts_at)
    if not on_step(service, starts_at, provider.zone_name):
        raise DomainError("time_off_step", step=service.step_minutes)
    terms = _provider_terms(customer, service, provider, starts_at, minutes, quote_id)
    ends_at = starts_at + dt.timedelta(minutes=terms.pop("length"))
    blocked_until = ends_at + dt.timedelta(minutes=service.buffer_minutes)
    if not provider_works(provider, starts_at, ends_at):
        raise DomainError("provider_unavailable")
    reserve = reserve_provider_time
    if naive := race_control("provider_time"):  # reads now, outside the transaction
        reserve = naive(provider_id=provider.pk, starts_at=starts_at, blocked_until=blocked_until)
    with transaction.atomic():
        reservation = reserve(
            provider_id=provider.pk,
            starts_at=starts_at,
            ends_at=ends_at,
            blocked_until=blocked_until,
        )
        return place_order(
            actor=customer,
            audit_data={"provider": provider.pk, "starts_at": starts_at.isoformat()},
            customer=customer,
            merchant_id=service.merchant_id,
            service=service,
            provider=provider,
            reservation=reservation,
            starts_at=starts_at,
            ends_at=ends_at,
            places=1,
            options={"notes": notes.strip()[:500]} if notes and notes.strip() else {},
            **place,
            **terms,
        )
