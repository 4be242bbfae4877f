"""The naive writes the concurrency tests' controls swap in (yuyue.core.controls).

Each is the classic check-then-write bug its guard prevents: read, pause (so that racing
requests all read before any writes), then write what was read. The control servers run with
`YUYUE_RACE_CONTROLS=tests.concurrency.unguarded`; nothing else ever loads this module.
"""

from __future__ import annotations

import time

from django.db import transaction

from yuyue.billing.models import Payment
from yuyue.core.audit import audit
from yuyue.core.codes import new_checkin_code
from yuyue.core.errors import DomainError
from yuyue.orders.models import Booking, BookingStatus, Participant, SlotUsage
from yuyue.scheduling.models import ProviderReservation, TimeSlot

RACE_WINDOW_SECONDS = 0.2


def _pause() -> None:
    time.sleep(RACE_WINDOW_SECONDS)


def write_bookings(p):
    """A hall booking: usage and places read, checked, then written as read."""
    booking = p.booking
    slot = TimeSlot.objects.get(pk=booking.slot_id)
    used = (
        SlotUsage.objects.filter(slot=slot, customer=booking.customer)
        .values_list("count", flat=True)
        .first()
        or 0
    )
    if used >= p.limit:
        raise DomainError("per_user_limit", limit=p.limit)
    if slot.capacity is not None and slot.booked + booking.places > slot.capacity:
        raise DomainError("slot_full")
    _pause()
    with transaction.atomic():
        SlotUsage.objects.update_or_create(
            slot=slot, customer=booking.customer, defaults={"count": used + 1}
        )
        TimeSlot.objects.filter(pk=slot.pk).update(booked=slot.booked + booking.places)
        booking.code = new_checkin_code()
        booking.save(force_insert=True)
        for person in p.people:
            person.booking = booking
        Participant.objects.bulk_create(p.people)
    return booking


def provider_time(*, provider_id, starts_at, blocked_until):
    """A provider's time: the overlap read before the transaction; the reservation written
    inside it without the row lock or the check."""
    if ProviderReservation.objects.filter(
        provider_id=provider_id,
        active=True,
        starts_at__lt=blocked_until,
        blocked_until__gt=starts_at,
    ).exists():
        raise DomainError("provider_busy")
    _pause()

    def reserve(*, provider_id, starts_at, ends_at, blocked_until):
        return ProviderReservation.objects.create(
            provider_id=provider_id,
            starts_at=starts_at,
            ends_at=ends_at,
            blocked_until=blocked_until,
        )

    return reserve


def check_in(*, booking, actor, now):
    """A code redeemed with no condition on the booking's state."""
    _pause()
    with transaction.atomic():
        Booking.objects.filter(pk=booking.pk).update(
            status=BookingStatus.CHECKED_IN, checked_in_at=now, checked_in_by=actor
        )
    booking.refresh_from_db()
    return booking


def grab(*, booking, provider, actor):
    """An order taken with no condition on who holds it."""
    _pause()
    Booking.objects.filter(pk=booking.pk).update(provider=provider, status=BookingStatus.ACCEPTED)
    audit(actor, "booking.grab", booking)
    booking.refresh_from_db()
    return booking


def refund_top_up(*, payment):
    """What is refunded so far read before the transaction; inside it, that plus the amount."""
    seen = Payment.objects.get(pk=payment.pk).refunded_fen
    _pause()

    def claim(payment, amount_fen):
        if seen + amount_fen > payment.amount_fen:
            raise DomainError("refund_exceeds_payment")
        Payment.objects.filter(pk=payment.pk).update(refunded_fen=seen + amount_fen)

    return claim


def otp_attempt(*, otp):
    """A one-time code's try: the count read, checked, then written back as read plus one."""
    from django.conf import settings

    from yuyue.accounts.models import OneTimeCode

    attempts = OneTimeCode.objects.values_list("attempts", flat=True).get(pk=otp.pk)
    if attempts >= settings.YUYUE_OTP_MAX_ATTEMPTS:
        return None
    _pause()
    OneTimeCode.objects.filter(pk=otp.pk).update(attempts=attempts + 1)
    return attempts + 1


def reschedule(*, actor, booking_id, slot_id):
    """Moving a booking: the new slot's places read and checked, then written as read, without
    the row locks or the conditional update."""
    booking = Booking.objects.get(pk=booking_id, customer=actor)
    new = TimeSlot.objects.get(pk=slot_id)
    if new.capacity is not None and new.booked + booking.places > new.capacity:
        raise DomainError("slot_full")
    _pause()
    with transaction.atomic():
        TimeSlot.objects.filter(pk=new.pk).update(booked=new.booked + booking.places)
        old = TimeSlot.objects.get(pk=booking.slot_id)
        TimeSlot.objects.filter(pk=old.pk).update(booked=old.booked - booking.places)
        Booking.objects.filter(pk=booking.pk).update(
            slot=new, starts_at=new.starts_at, ends_at=new.ends_at
        )
    booking.refresh_from_db()
    return booking


def decide_case_claim(*, case, fields):
    """An after-sales decision: the case's state read, checked, then written as read."""
    from yuyue.engagement.models import Case, CaseStatus

    if Case.objects.get(pk=case.pk).status not in (CaseStatus.OPEN, CaseStatus.ANSWERED):
        return 0
    _pause()
    return Case.objects.filter(pk=case.pk).update(**fields)


def chat_send():
    """A chat send: the check for an earlier message with the key has been made; pause before
    the insert (the control drops the unique (sender, key) that guards it)."""
    _pause()


def delivery_claim(*, pk):
    """A notice's delivery: read that it waits, pause, then take it (as read)."""
    from yuyue.notifications.models import Delivery

    if Delivery.objects.filter(pk=pk, status="pending").exists():
        _pause()
        Delivery.objects.filter(pk=pk).update(status="sending")
        return True
    return False
