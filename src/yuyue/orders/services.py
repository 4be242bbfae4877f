"""Booking use cases: book a slot or a provider's time, cancel, check in.

Every guard is in the database:
- capacity: `UPDATE slot SET booked = booked + n WHERE booked + n <= capacity`, row count checked,
  and a CHECK constraint `booked <= capacity` behind it;
- per-user limit: a SlotUsage row per (slot, customer) raised by a conditional upsert
  (hall-slot bookings are written by `slot_writes`, several at once under load);
- provider time: the provider row locked FOR UPDATE, then an overlap check, with PostgreSQL's
  exclusion constraint behind it (SQLite serialises writers with BEGIN IMMEDIATE);
- status changes (cancel, check-in): `UPDATE … WHERE status = 'booked'`, row count checked.
Locks are taken in one order (usage → slot → booking) so concurrent bookings cannot deadlock.

`settings.YUYUE_UNGUARDED` (tests only) replaces each guard with the naive read-then-write, so the
concurrency tests can show the race that the guards prevent.
"""

from __future__ import annotations

import datetime as dt
import time
from functools import cache
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from yuyue.accounts.auth import ANY_STAFF, BearerKey, require_staff
from yuyue.accounts.models import Provider, User
from yuyue.catalog.forms import clean_answers
from yuyue.catalog.models import CancelPolicy, FormField, MerchantStatus, Service, ServiceKind
from yuyue.core import sql
from yuyue.core.audit import audit
from yuyue.core.codes import new_checkin_code, normalize_checkin_code
from yuyue.core.errors import DomainError
from yuyue.core.jobqueue import Job, enqueue_with_transaction
from yuyue.core.timeutil import ahead, zone
from yuyue.pricing.prices import listed_sql, unit_price
from yuyue.scheduling.availability import booking_deadline, on_step, provider_works
from yuyue.scheduling.models import ProviderReservation, SlotStatus, TimeSlot

from .models import Booking, BookingStatus, Channel, Participant, PaymentStatus, SlotUsage
from .slot_writes import PendingBooking, write_bookings
from .states import SYSTEM, apply_step

RACE_WINDOW_SECONDS = 0.2  # how long the unguarded (test-only) path waits between read and write


def _unguarded() -> bool:
    return bool(settings.YUYUE_UNGUARDED)


def _fmt_local(moment: dt.datetime, tzname: str) -> str:
    return moment.astimezone(zone(tzname)).strftime("%Y-%m-%d %H:%M")


def _require_customer(actor) -> User:
    if not getattr(actor, "pk", None):
        raise DomainError("auth_required")
    return actor


def _reminder_offsets(booking: Booking) -> list[int]:
    """Minutes before the start at which both sides are reminded."""
    if booking.channel == Channel.CALL:
        from yuyue.calls.metering import rules_from

        return sorted(rules_from(booking.service.call_rules).reminders, reverse=True)
    return [settings.YUYUE_REMINDER_MINUTES]


def first_reminder_at(booking: Booking, *, now: dt.datetime | None = None) -> dt.datetime | None:
    """When a new booking's first reminder to the customer and the provider is due: at the
    earliest of its offsets (YUYUE_REMINDER_MINUTES before, or each of a timed call's
    `reminders`) still ahead; if all of them have passed, at once; none once it has started.
    The reminder sweep (`send_due_reminders`) sends it and moves on to the next offset."""
    now = now or timezone.now()
    offsets = _reminder_offsets(booking)
    if booking.starts_at <= now or not offsets:  # a call's rules may ask for no reminders
        return None
    due = [booking.starts_at - dt.timedelta(minutes=m) for m in offsets]
    return min((at for at in due if at > now), default=now)


def send_due_reminders(*, now: dt.datetime | None = None, limit: int = 500) -> dict[str, int]:
    """The reminder sweep: every booking whose reminder is due reminds its customer and its
    provider (an in-app notice, and a text where YUYUE_SMS_KINDS says so) and gets its next
    reminder time, or none. A booking that has ended or closed gets none, and no message.

    Bookings are taken in due order, `limit` at a time, each batch locked (other sweeps skip
    them, so two workers never send one reminder twice); a sweep that falls behind sends one
    late reminder, not one per offset missed."""
    from yuyue.notifications.sending import notify

    from .states import CLOSED

    now = now or timezone.now()
    counts = {"sent": 0, "dropped": 0}
    while True:
        with transaction.atomic():
            due = list(
                Booking.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("provider", "service")
                .filter(remind_at__lte=now)
                .order_by("remind_at")[:limit]
            )
            for booking in due:
                offsets = _reminder_offsets(booking)
                ahead = booking.starts_at - booking.remind_at
                minutes = min(
                    (m for m in offsets if dt.timedelta(minutes=m) >= ahead),
                    default=offsets[-1] if offsets else 0,
                )
                following = [
                    booking.starts_at - dt.timedelta(minutes=m)
                    for m in offsets
                    if m < minutes and booking.starts_at - dt.timedelta(minutes=m) > now
                ]
                booking.remind_at = min(following, default=None)
                Booking.objects.filter(pk=booking.pk).update(remind_at=booking.remind_at)
                if booking.status in CLOSED or booking.ends_at <= now or not offsets:
                    counts["dropped"] += 1
                    continue
                told = [booking.customer_id]
                if booking.provider_id:
                    told.append(booking.provider.user_id)
                for user_id in told:
                    notify(
                        user_id,
                        "booking.reminder",
                        booking=booking.pk,
                        starts_at=booking.starts_at.isoformat(),
                        service=booking.service.name,
                        minutes_before=minutes,
                        call=booking.channel == Channel.CALL,
                    )
                counts["sent"] += 1
        if len(due) < limit:
            return counts


def _create_booking(**fields) -> Booking:
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


def book_slot(*, actor, slot_id: int, places: int, participants: list[dict] | None) -> Booking:
    """Book `places` places in a hall slot, one participant (with form answers) per place.

    `actor` is the customer, or a `BearerKey` not looked up yet: then the slot's read takes the
    token's lookup along (one statement, not two)."""
    key = actor if isinstance(actor, BearerKey) else None
    customer = None if key else _require_customer(actor)
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
    now = timezone.now()
    if now >= slot.ends_at:
        raise DomainError("slot_past")
    deadline = booking_deadline(slot, service)
    if now >= deadline:
        raise DomainError(
            "booking_closed", deadline=_fmt_local(deadline, service.merchant.timezone)
        )
    fields = (  # most services ask nothing: then no second statement
        sql.select(
            FormField,
            _hall_sql()["fields_where"],
            [service.pk],
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
    if not answers:
        answers = [{} for _ in range(places)]

    if _unguarded():
        return _book_slot_unguarded(customer, slot, places, answers)

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
    write_bookings(
        PendingBooking(
            booking=booking,
            people=people,
            limit=service.per_user_limit,
            jobs=_expiry_jobs,
        )
    )
    # Hand back what the answer needs, already loaded: no second round of queries.
    booking.slot, booking.service, booking.merchant, booking.customer = (
        slot,
        service,
        service.merchant,
        customer,
    )
    booking._prefetched_objects_cache = {"participants": people}
    return booking


def _book_slot_unguarded(customer, slot: TimeSlot, places: int, answers) -> Booking:
    """The classic check-then-write bug, kept only so the concurrency tests have a control."""
    fresh = TimeSlot.objects.get(pk=slot.pk)
    used = (
        SlotUsage.objects.filter(slot=slot, customer=customer)
        .values_list("count", flat=True)
        .first()
        or 0
    )
    if used >= slot.service.per_user_limit:
        raise DomainError("per_user_limit", limit=slot.service.per_user_limit)
    if fresh.capacity is not None and fresh.booked + places > fresh.capacity:
        raise DomainError("slot_full")
    time.sleep(RACE_WINDOW_SECONDS)
    with transaction.atomic():
        SlotUsage.objects.update_or_create(
            slot=slot, customer=customer, defaults={"count": used + 1}
        )
        TimeSlot.objects.filter(pk=slot.pk).update(booked=fresh.booked + places)
        booking = _create_booking(
            customer=customer,
            merchant_id=slot.service.merchant_id,
            service=slot.service,
            slot=slot,
            starts_at=slot.starts_at,
            ends_at=slot.ends_at,
            places=places,
        )
        Participant.objects.bulk_create(
            [Participant(booking=booking, position=i, answers=a) for i, a in enumerate(answers)]
        )
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
    if not _unguarded():
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


def book_provider(
    *,
    actor,
    service_id: int,
    provider_id: int,
    starts_at: dt.datetime,
    minutes: int | None = None,
    quote_id: int | None = None,
) -> Booking:
    """Book a chosen provider's time for an on-site or remote service.

    A remote (timed call) service is booked for `minutes` of the customer's choosing (in the
    service's steps, up to its rules' maximum) and billed by the meter after the call: nothing is
    paid now, but the wallet must hold enough for the call's first hold."""
    customer = _require_customer(actor)
    service = Service.objects.select_related("merchant").filter(pk=service_id).first()
    provider = Provider.objects.select_related("merchant").filter(pk=provider_id).first()
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
    ahead(starts_at)
    if not on_step(service, starts_at, provider.zone_name):
        raise DomainError("time_off_step", step=service.step_minutes)
    call = None
    if service.kind == ServiceKind.REMOTE:
        call = _call_terms(customer, service, provider, minutes)
        length = call["minutes"]
    elif minutes is not None and minutes != service.duration_minutes:
        raise DomainError("invalid_input", "Only timed calls are booked for a chosen length.")
    else:
        length = service.duration_minutes
    ends_at = starts_at + dt.timedelta(minutes=length)
    blocked_until = ends_at + dt.timedelta(minutes=service.buffer_minutes)
    price = unit_price(service, starts_at)[0]
    quote = None
    if quote_id is not None:  # the order takes the quote's price and locks it
        from yuyue.pricing.prices import valid_quote

        if service.kind == ServiceKind.REMOTE:
            raise DomainError("invalid_input", "Timed calls are billed by the meter, not quoted.")
        quote = valid_quote(
            quote_id=quote_id,
            customer=customer,
            service_id=service.pk,
            starts_at=starts_at,
            quantity=1,
        )
        price = quote.total_fen
    if not provider_works(provider, starts_at, ends_at):
        raise DomainError("provider_unavailable")

    if _unguarded():
        if _overlapping(provider.pk, starts_at, blocked_until):
            raise DomainError("provider_busy")
        time.sleep(RACE_WINDOW_SECONDS)

    with transaction.atomic():
        reservation = reserve_provider_time(
            provider_id=provider.pk,
            starts_at=starts_at,
            ends_at=ends_at,
            blocked_until=blocked_until,
        )
        booking = _create_booking(
            customer=customer,
            merchant_id=service.merchant_id,
            service=service,
            provider=provider,
            reservation=reservation,
            starts_at=starts_at,
            ends_at=ends_at,
            places=1,
            price_fen=call["price_fen"] if call else price,
            channel=Channel.CALL if call else Channel.CHOSEN,
            **(
                {"status": BookingStatus.ACCEPTED, "payment_status": PaymentStatus.METERED}
                if call
                else {"status": BookingStatus.ACCEPTED, **payment_terms(price)}
            ),
        )
        if call:
            from yuyue.calls.services import open_call

            open_call(booking, rate_fen=call["rate_fen"], rules=call["rules"])
        if quote is not None:
            from yuyue.pricing.prices import use_quote

            use_quote(quote, booking)
        _schedule_expiry(booking)
        audit(
            customer,
            "booking.create",
            booking,
            provider=provider.pk,
            starts_at=starts_at.isoformat(),
        )
    return booking


def _call_terms(customer, service: Service, provider: Provider, minutes: int | None) -> dict:
    """Length, rate, rules and estimated price of a timed call; the wallet must cover its hold."""
    from yuyue.billing.payments import wallet
    from yuyue.calls import metering
    from yuyue.calls.services import hold_seconds, rate_for

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
    rate = rate_for(service, provider)
    first_hold = metering.charge(hold_seconds(rules, minutes * 60), rate, rules)
    if first_hold > wallet(customer.pk).available:
        raise DomainError("insufficient_funds")
    return {
        "minutes": minutes,
        "rate_fen": rate,
        "rules": rules,
        "price_fen": metering.charge(minutes * 60, rate, rules),
    }


# --- payment ---------------------------------------------------------------------------------


def payment_terms(price_fen: int) -> dict:
    """Initial status fields for a new order: free orders skip payment, others must pay in time.

    The money issue fills in how an order is paid; it calls `confirm_payment` when it is.
    """
    if price_fen <= 0:
        return {"payment_status": PaymentStatus.NOT_REQUIRED}
    return {
        "status": BookingStatus.AWAITING_PAYMENT,
        "payment_status": PaymentStatus.UNPAID,
        "pay_before": timezone.now() + dt.timedelta(minutes=settings.YUYUE_PAYMENT_MINUTES),
    }


AFTER_PAYMENT = {
    Channel.HALL_SLOT: "pay_for_slot",
    Channel.DISPATCH: "pay_for_dispatch",
    Channel.CHOSEN: "pay_for_provider",
    Channel.TASK_HALL: "pay_for_provider",
    Channel.CALL: "pay_for_provider",
}


def _expiry_jobs(booking: Booking) -> list[Job]:
    if booking.status == BookingStatus.AWAITING_PAYMENT and booking.pay_before:
        from .tasks import expire_unpaid_booking

        return [(expire_unpaid_booking, booking.pay_before, (booking.pk,))]
    return []


def _schedule_expiry(booking: Booking) -> None:
    enqueue_with_transaction(_expiry_jobs(booking))


def confirm_payment(*, booking_id: int, reference: str = "") -> Booking:
    """The order is paid: it moves on (booked, to dispatch, or accepted by its provider)."""
    booking = Booking.objects.filter(pk=booking_id).first()
    if booking is None:
        raise DomainError("not_found")
    with transaction.atomic():
        booking = apply_step(
            booking,
            AFTER_PAYMENT[booking.channel],
            actor=None,
            role=SYSTEM,
            note=reference[:300],
            payment_status=PaymentStatus.PAID,
        )
    return booking


def expire_unpaid(*, booking_id: int) -> bool:
    """Expire an order still unpaid after its deadline, giving back its place or time."""
    booking = Booking.objects.filter(pk=booking_id).first()
    if booking is None or booking.status != BookingStatus.AWAITING_PAYMENT:
        return False
    if booking.pay_before and booking.pay_before > timezone.now():
        return False
    try:
        with transaction.atomic():
            apply_step(booking, "expire", actor=None, role=SYSTEM)
            _release(booking, counter=None)
            from yuyue.billing.coupons import release_claim

            release_claim(booking)
    except DomainError:
        return False  # paid or cancelled meanwhile
    return True


REVIVE = {
    Channel.HALL_SLOT: "revive_slot",
    Channel.DISPATCH: "revive_dispatch",
    Channel.CHOSEN: "revive_provider",
    Channel.TASK_HALL: "revive_provider",
}


def revive_paid(*, booking_id: int, reference: str = "") -> bool:
    """A payment arrived after its order expired: if the order's place or provider time is
    still free, take it again and the order goes on, paid. False (nothing changed) otherwise —
    the caller then refunds the payment."""
    booking = Booking.objects.select_related("service").filter(pk=booking_id).first()
    if booking is None or booking.status != BookingStatus.EXPIRED:
        return False
    if booking.channel not in REVIVE or booking.starts_at <= timezone.now():
        return False
    try:
        with transaction.atomic():
            if booking.slot_id:  # the slot row first (yuyue.orders.slot_writes)
                service = booking.service
                if not (
                    TimeSlot.objects.filter(pk=booking.slot_id, status=SlotStatus.OPEN)
                    .filter(
                        Q(capacity__isnull=True) | Q(booked__lte=F("capacity") - booking.places)
                    )
                    .update(booked=F("booked") + booking.places)
                ):
                    raise DomainError("slot_full")
                SlotUsage.objects.bulk_create(
                    [SlotUsage(slot_id=booking.slot_id, customer_id=booking.customer_id)],
                    ignore_conflicts=True,
                )
                if not SlotUsage.objects.filter(
                    slot_id=booking.slot_id,
                    customer_id=booking.customer_id,
                    count__lt=service.per_user_limit,
                ).update(count=F("count") + 1):
                    raise DomainError("per_user_limit", limit=service.per_user_limit)
            if booking.reservation_id:
                old = ProviderReservation.objects.get(pk=booking.reservation_id)
                fresh = reserve_provider_time(
                    provider_id=old.provider_id,
                    starts_at=old.starts_at,
                    ends_at=old.ends_at,
                    blocked_until=old.blocked_until,
                )
                Booking.objects.filter(pk=booking.pk).update(reservation=fresh)
            apply_step(
                booking,
                REVIVE[booking.channel],
                actor=None,
                role=SYSTEM,
                note=reference[:300],
                payment_status=PaymentStatus.PAID,
            )
    except (DomainError, IntegrityError):
        return False
    return True


# --- cancelling ------------------------------------------------------------------------------


def _release(booking: Booking, *, counter: str | None) -> None:
    """Give back what the order held: its places in a slot, its provider's time."""
    if booking.slot_id:  # the slot row first, then the usage row (yuyue.orders.slot_writes)
        changes = {"booked": F("booked") - booking.places}
        if counter:
            changes[counter] = F(counter) + booking.places
        TimeSlot.objects.filter(pk=booking.slot_id).update(**changes)
        SlotUsage.objects.filter(
            slot_id=booking.slot_id, customer_id=booking.customer_id, count__gt=0
        ).update(count=F("count") - 1)
    if booking.reservation_id:
        ProviderReservation.objects.filter(pk=booking.reservation_id).update(active=False)


def _cancel(booking: Booking, *, actor, step: str, reason: str) -> Booking:
    now = timezone.now()
    counter = "cancelled" if step == "cancel" else "cancelled_by_staff"
    call_fee = 0
    if booking.payment_status == PaymentStatus.METERED and step == "cancel":
        from yuyue.calls.services import cancellation_fee

        call_fee = cancellation_fee(booking, now)  # by the state before cancelling
    try:
        with transaction.atomic():
            updated = apply_step(
                booking,
                step,
                actor=actor,
                note=reason,
                cancelled_at=now,
                cancelled_by=actor,
                cancel_reason=reason[:300],
            )
            Booking.objects.filter(pk=booking.pk).update(cancelled_role=updated.events.last().role)
            _release(booking, counter=counter)
            if booking.payment_status == PaymentStatus.UNPAID:
                from yuyue.billing.coupons import release_claim

                release_claim(booking)
            if booking.payment_status == PaymentStatus.METERED:
                from yuyue.calls.services import close_cancelled

                close_cancelled(booking, fee=call_fee, when=now)
            if booking.payment_status == PaymentStatus.PAID:
                from yuyue.billing.tasks import refund_cancelled_order_job

                transaction.on_commit(lambda: refund_cancelled_order_job.enqueue(booking.pk))
    except DomainError as exc:
        if exc.code != "illegal_transition":
            raise
        current = Booking.objects.get(pk=booking.pk)
        if current.is_cancelled or current.status == BookingStatus.EXPIRED:
            raise DomainError("already_cancelled") from exc
        if current.status == BookingStatus.CHECKED_IN:
            raise DomainError("cancel_checked_in") from exc
        raise DomainError("cancel_after_start") from exc
    booking.refresh_from_db()
    return booking


def cancel_booking(*, actor, booking_id: int, reason: str = "") -> Booking:
    """The customer cancels their own booking, as the service's cancel policy allows."""
    booking = (
        Booking.objects.select_related("service")
        .filter(pk=booking_id, customer_id=getattr(actor, "pk", None))
        .first()
    )
    if booking is None:
        raise DomainError("not_found")
    if booking.is_cancelled:
        raise DomainError("already_cancelled")
    if booking.status == BookingStatus.CHECKED_IN:
        raise DomainError("cancel_checked_in")
    policy = booking.service.cancel_policy
    unpaid = booking.status == BookingStatus.AWAITING_PAYMENT
    if policy == CancelPolicy.NEVER and not unpaid:
        raise DomainError("cancel_never")
    if policy == CancelPolicy.BEFORE_START and timezone.now() >= booking.starts_at and not unpaid:
        raise DomainError("cancel_after_start")
    return _cancel(booking, actor=actor, step="cancel", reason=reason)


def cancel_booking_by_staff(*, actor, booking: Booking | int, reason: str) -> Booking:
    """Merchant staff (or an operator) cancel a booking, always with a reason."""
    if not isinstance(booking, Booking):
        booking = Booking.objects.filter(pk=booking).first()
        if booking is None:
            raise DomainError("not_found")
    require_staff(actor, booking.merchant_id, ANY_STAFF)
    if not reason or not reason.strip():
        raise DomainError("reason_required")
    return _cancel(booking, actor=actor, step="staff_cancel", reason=reason.strip())


# --- check-in 核销 ----------------------------------------------------------------------------


def _refuse_check_in(booking: Booking) -> None:
    if booking.is_cancelled or booking.status == BookingStatus.EXPIRED:
        raise DomainError("booking_cancelled")
    if booking.status == BookingStatus.CHECKED_IN:
        raise DomainError(
            "already_checked_in", at=_fmt_local(booking.checked_in_at, booking.merchant.timezone)
        )
    if booking.status != BookingStatus.BOOKED:
        raise DomainError("illegal_transition", step="check_in", state=booking.status)


def check_in(*, actor, merchant_id: int, code: str) -> Booking:
    """Redeem a booking's code at its merchant, once, on the booking's local day."""
    require_staff(actor, merchant_id, ANY_STAFF)
    code = normalize_checkin_code(code or "")
    booking = Booking.objects.select_related("merchant").filter(code=code).first() if code else None
    if booking is None:
        raise DomainError("code_unknown")
    if booking.merchant_id != merchant_id:
        raise DomainError("wrong_merchant")
    _refuse_check_in(booking)
    tz = zone(booking.merchant.timezone)
    day = booking.starts_at.astimezone(tz).date()
    if day != timezone.now().astimezone(tz).date():
        raise DomainError("not_today", date=day.isoformat())
    now = timezone.now()
    if _unguarded():  # the control of the concurrency test: no state condition on the write
        time.sleep(RACE_WINDOW_SECONDS)
        with transaction.atomic():
            Booking.objects.filter(pk=booking.pk).update(
                status=BookingStatus.CHECKED_IN, checked_in_at=now, checked_in_by=actor
            )
        booking.refresh_from_db()
        return booking
    try:
        with transaction.atomic():
            booking = apply_step(
                booking, "check_in", actor=actor, checked_in_at=now, checked_in_by=actor
            )
            from yuyue.billing.settlement import schedule_settlement

            schedule_settlement(booking)
    except DomainError as exc:
        if exc.code != "illegal_transition":
            raise
        booking.refresh_from_db()
        _refuse_check_in(booking)
        raise
    return booking
