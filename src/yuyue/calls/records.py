"""A call's record (every join, leave, audio change, warning, the rule and the price) for its two
sides and operators, and an operator's refund of part of its price."""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from yuyue.billing.models import Payment
from yuyue.core.errors import DomainError

from .clock import snapshot
from .models import OPEN, OPERATOR, CallSession, CallStatus
from .services import _event, may_read


def record(*, actor, booking_id: int, now: dt.datetime | None = None) -> dict:
    """The call's record for its two sides and operators; strangers get not_found."""
    now = now or timezone.now()
    call = (
        CallSession.objects.select_related("booking", "booking__provider", "hold")
        .filter(booking_id=booking_id)
        .first()
    )
    if call is None or not may_read(actor, call.booking):
        raise DomainError("not_found")
    return {
        **snapshot(call, now),
        "rules": call.rules,
        "refunded_fen": call.refunded_fen,
        "first_live_at": call.first_live_at,
        "ended_at": call.ended_at,
        "events": [
            {"at": e.at, "party": e.party, "kind": e.kind, "detail": e.detail}
            for e in call.events.all()
        ],
    }


def consultant_calls(provider, *, limit: int = 50) -> dict:
    """A consultant's calls: those still to be held (paid, not ended), soonest first, and the
    records of those held or missed, newest first, each with what it earned them."""
    from yuyue.billing.settlement import credited_by_order

    calls = CallSession.objects.filter(booking__provider=provider).select_related(
        "booking__service"
    )
    upcoming = list(calls.filter(status__in=OPEN).order_by("booking__starts_at")[:limit])
    held = list(
        calls.filter(status__in=[CallStatus.ENDED, CallStatus.MISSED]).order_by(
            "-booking__starts_at"
        )[:limit]
    )
    earned = credited_by_order(provider, [c.booking_id for c in held])
    for c in held:
        c.earned_fen = earned.get(c.booking_id, 0)
    return {
        "upcoming": upcoming,
        "held": held,
        "talked_seconds": sum(c.metered_seconds or 0 for c in held),
        "earned_fen": sum(c.earned_fen for c in held),
    }


def earned(provider, booking_id: int) -> int:
    """What one call put into the consultant's earnings, in fen."""
    from yuyue.billing.settlement import credited_by_order

    return credited_by_order(provider, [booking_id]).get(booking_id, 0)


def refund_call(*, actor, booking_id: int, amount_fen: int, key: str, reason: str) -> dict:
    """An operator gives back part of a call's price (once per key, never more than was paid)."""
    from yuyue.billing.refunds import refund

    if not getattr(actor, "is_operator", False):
        raise DomainError("forbidden")
    if not reason or not reason.strip():
        raise DomainError("reason_required")
    call = CallSession.objects.filter(booking_id=booking_id).first()
    if call is None:
        raise DomainError("not_found")
    if call.status != CallStatus.ENDED or not call.charged_fen:
        raise DomainError("nothing_to_refund")
    record_ = refund(
        actor=actor, booking_id=booking_id, amount_fen=amount_fen, key=key, reason=reason
    )
    with transaction.atomic():
        call = CallSession.objects.select_for_update().get(pk=call.pk)
        total = Payment.objects.filter(booking_id=booking_id).values_list("refunded_fen", flat=True)
        call.refunded_fen = sum(total)
        call.save(update_fields=["refunded_fen"])
        if not call.events.filter(kind="refund", detail__key=key).exists():
            _event(call, timezone.now(), OPERATOR, "refund", key=key, amount_fen=amount_fen)
    return {
        "refund_id": record_.pk,
        "amount_fen": record_.amount_fen,
        "refunded_fen": call.refunded_fen,
    }
