"""Timed calls: who may join, the meter on the server's clock, the hold, and the bill — once.

Every change to a call runs under its row lock (SELECT … FOR UPDATE on PostgreSQL; SQLite
serialises writers), so a join, a heartbeat, a hang-up, the consumer's tick and the worker's
sweep can arrive in any order and at once: each sees the state the previous one left.

The meter runs while both sides are in and both pages report their audio connected (their
WebRTC peer connection's state, sent with every heartbeat and on every change): two sockets that
never carry audio are never billed, and a call whose audio never connects ends unbilled as
`no_media`. A side is in from its join until it leaves, hangs up, or stays silent longer than
the rules' heartbeat gap (then it counts as gone from its last heartbeat: the last moment we know
it was there). A side that reports its audio lost (disconnected, failed) stops the meter from
that report if the audio is not back within `media_grace_seconds`. When a side is gone or its
audio lost the meter pauses (and the call ends if it does not resume within `rejoin_seconds`)
or, by the rules, the call stops.

What the sides are shown never runs ahead of what will be billed: while the meter runs, the
elapsed time shown stops at the last moment both sides are known to be there with their audio
(`shown_ms`), so a page that freezes does not make the other count on and then jump back.

Money: when the meter first starts, a hold is put on the customer's wallet for the booked length
(or `hold_minutes`); while the call runs on it is extended in steps of `extend_minutes` if the
balance allows; both sides are warned `warn_seconds` before the hold or the booked time runs
out; at the limit the call ends. At the end the price of the metered seconds (never more than the
hold) is posted to escrow and the rest released; the order is then settled like any other
(commission, merchant share, the consultant's earnings) after the complaint window.

Every function takes `now` so that tests can drive the clock; in production it is the server's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from yuyue.billing import ledger
from yuyue.billing.models import AccountKind, Payment, PaymentPurpose
from yuyue.billing.models import PaymentStatus as PayStatus
from yuyue.core.audit import audit
from yuyue.core.errors import DomainError
from yuyue.core.metrics import count, counter
from yuyue.orders.models import Booking
from yuyue.orders.models import PaymentStatus as OrderPayment
from yuyue.orders.states import SYSTEM, apply_step
from yuyue.pricing import metering

from .clock import _lost_at, _ms, _rules, elapsed_ms, limit_seconds, snapshot
from .fees import charge_fee
from .models import CONSULTANT, CUSTOMER, OPEN, SIDES, CallEvent, CallSession, CallStatus

# RTCPeerConnection.connectionState values a page may report; only "connected" carries audio
MEDIA_STATES = frozenset({"new", "connecting", "connected", "disconnected", "failed", "closed"})
EXTEND_LEAD_SECONDS = 30  # extend the hold this long before the warning would be due

CALL_SECONDS = counter("yuyue_call_seconds_total", "Seconds metered of ended calls", ["end"])
CALLS_ENDED = counter("yuyue_calls_ended_total", "Calls ended, by how they ended", ["end"])


@dataclass
class Update:
    """A call's state after a change, and what both sides must hear of it."""

    snapshot: dict
    messages: list[dict] = field(default_factory=list)


# --- opening a call with its booking -----------------------------------------------------------


def open_call(booking: Booking, *, rate_fen: int, rules: metering.Rules) -> CallSession:
    """The call of a newly booked remote session (inside the booking's transaction)."""
    return CallSession.objects.create(
        booking=booking,
        rate_fen=rate_fen,
        rules=rules.as_dict(),
        booked_seconds=int((booking.ends_at - booking.starts_at).total_seconds()),
    )


# --- who is who ----------------------------------------------------------------------------------


def party_of(user, booking: Booking) -> str | None:
    if user is None or not getattr(user, "pk", None):
        return None
    if booking.customer_id == user.pk:
        return CUSTOMER
    if booking.provider_id and booking.provider.user_id == user.pk:
        return CONSULTANT
    return None


def may_read(user, booking: Booking) -> bool:
    return party_of(user, booking) is not None or bool(getattr(user, "is_operator", False))


def _event(call: CallSession, at: dt.datetime, party: str, kind: str, **detail) -> None:
    CallEvent.objects.create(call=call, at=at, party=party, kind=kind, detail=detail)


def _close_segment(call: CallSession, at: dt.datetime) -> None:
    if call.status == CallStatus.LIVE and call.live_since is not None:
        call.metered_ms += _ms(at - call.live_since)
        call.live_since = None


def _go_live(call: CallSession, at: dt.datetime, out: list[dict]) -> None:
    rules = _rules(call)
    booking = call.booking
    if call.hold_id is None:
        amount = metering.first_hold_fen(rules, call.rate_fen, call.booked_seconds)
        if amount > 0:
            wallet = ledger.account(AccountKind.CUSTOMER_CASH, "user", booking.customer_id)
            try:
                with transaction.atomic():
                    call.hold = ledger.create_hold(
                        key=f"call:{call.pk}", account=wallet, amount=amount, booking=booking
                    )
            except DomainError as exc:
                if exc.code != "insufficient_funds":
                    raise
                if call.blocked != "insufficient_funds":
                    call.blocked = "insufficient_funds"
                    _event(call, at, SYSTEM, "blocked", reason="insufficient_funds", need=amount)
                    out.append(
                        {"type": "blocked", "reason": "insufficient_funds", "need_fen": amount}
                    )
                return
    call.blocked = ""
    call.status = CallStatus.LIVE
    call.live_since = at
    call.paused_since = None
    _event(call, at, SYSTEM, "live", hold_fen=call.hold.amount if call.hold_id else 0)
    if call.first_live_at is None:
        call.first_live_at = at
        apply_step(booking, "call_start", actor=None, role=SYSTEM)


def _presence_changed(call: CallSession, at: dt.datetime, out: list[dict]) -> None:
    """Start, pause or stop the meter after a side came, went, or its audio changed: it runs
    while both sides are in with their audio connected."""
    if call.customer_present and call.consultant_present and call.together_at is None:
        call.together_at = at
    both = all(getattr(call, f"{s}_present") and getattr(call, f"{s}_media") for s in SIDES)
    if call.status == CallStatus.LIVE and not both:
        _close_segment(call, at)
        if _rules(call).on_drop == metering.STOP:
            _end(call, "dropped", at, out)
            return
        call.status = CallStatus.PAUSED
        call.paused_since = at
        _event(call, at, SYSTEM, "paused")
    elif call.status in (CallStatus.WAITING, CallStatus.PAUSED) and both:
        _go_live(call, at, out)


def _extend_if_needed(call: CallSession, elapsed: int, now: dt.datetime) -> None:
    rules = _rules(call)
    limit = limit_seconds(call)
    if call.hold_id is None or limit >= call.booked_seconds:
        return
    if limit - elapsed > rules.warn_seconds + EXTEND_LEAD_SECONDS:
        return
    target = min(call.booked_seconds, limit + rules.extend_minutes * 60)
    extra = metering.charge(target, call.rate_fen, rules) - call.hold.amount
    wallet = ledger.account(AccountKind.CUSTOMER_CASH, "user", call.booking.customer_id)
    extra = min(extra, wallet.available)  # as much more as the balance allows
    if extra <= 0:
        return
    try:
        with transaction.atomic():
            call.hold = ledger.extend_hold(hold=call.hold, extra=extra)
    except DomainError as exc:
        if exc.code != "insufficient_funds":
            raise
        return
    _event(call, now, SYSTEM, "hold_extended", extra_fen=extra, hold_fen=call.hold.amount)


def _advance(call: CallSession, now: dt.datetime, out: list[dict]) -> None:
    """Bring the call up to `now`: sides gone silent, the hold, warnings, the end."""
    if call.status not in OPEN:
        return
    rules = _rules(call)
    gap = dt.timedelta(seconds=rules.heartbeat_gap_seconds)
    grace = dt.timedelta(seconds=rules.media_grace_seconds)
    gone = []
    for side in SIDES:
        seen = getattr(call, f"{side}_seen_at")
        if getattr(call, f"{side}_present") and seen is not None and now - seen > gap:
            setattr(call, f"{side}_present", False)
            _drop_media(call, side)
            _event(call, now, side, "gone", last_seen=seen.isoformat())
            gone.append(seen)
        lost = _lost_at(call, side)
        if lost is not None and now - lost >= grace:
            _drop_media(call, side)
            _event(call, now, side, "media_lost", since=lost.isoformat())
            gone.append(lost)
    if gone:
        _presence_changed(call, max(min(gone), call.live_since or min(gone)), out)
    if call.status == CallStatus.LIVE:
        elapsed = elapsed_ms(call, now) // 1000
        _extend_if_needed(call, elapsed, now)
        limit = limit_seconds(call)
        if elapsed >= limit:
            # The meter stops at the limit exactly, however late this check comes.
            at = call.live_since + dt.timedelta(milliseconds=limit * 1000 - call.metered_ms)
            call.metered_ms, call.live_since = limit * 1000, None
            reason = "time_up" if limit >= call.booked_seconds else "funds_exhausted"
            _end(call, reason, at, out)
            return
        if limit - elapsed <= rules.warn_seconds and call.warned_at_limit != limit:
            call.warned_at_limit = limit
            why = "booked_time" if limit >= call.booked_seconds else "funds"
            _event(call, now, SYSTEM, "warned", seconds_left=limit - elapsed, reason=why)
            out.append({"type": "warning", "seconds_left": limit - elapsed, "reason": why})
    elif call.status == CallStatus.PAUSED:
        if now - call.paused_since >= dt.timedelta(seconds=rules.rejoin_seconds):
            _end(call, "abandoned", now, out)
    elif call.status == CallStatus.WAITING and now >= call.booking.ends_at:
        _missed(call, now, out)


# --- the end and the bill ------------------------------------------------------------------------


def _end(call: CallSession, reason: str, at: dt.datetime, out: list[dict]) -> None:
    """End the call and bill it. Runs once: the caller holds the row lock and the call is open."""
    rules = _rules(call)
    _close_segment(call, at)
    booking = call.booking
    seconds = call.metered_ms // 1000
    price = metering.charge(seconds, call.rate_fen, rules)
    price = min(price, call.hold.amount) if call.hold_id else 0
    call.status, call.ended_at, call.end_reason = CallStatus.ENDED, at, reason
    call.metered_seconds, call.charged_fen = seconds, price
    count(CALL_SECONDS, seconds, end=reason)
    count(CALLS_ENDED, end=reason)
    if call.hold_id:
        escrow = ledger.account(AccountKind.ORDER_ESCROW)
        ledger.post_hold(
            hold=call.hold,
            amount=price,
            to=[(escrow, price)] if price else [],
            kind="call_charge",
            memo=f"call {call.pk}: {seconds} s, {rules.billing}",
        )
        call.hold.refresh_from_db()
    if price:
        from yuyue.billing.loyalty import earn_points

        payment = Payment.objects.create(
            out_trade_no=f"call{call.pk}",
            purpose=PaymentPurpose.ORDER,
            customer_id=booking.customer_id,
            booking=booking,
            gateway="wallet",
            amount_fen=price,
            status=PayStatus.PAID,
            paid_at=at,
        )
        earn_points(payment)
    booking = apply_step(
        booking,
        "call_end",
        actor=None,
        role=SYSTEM,
        note=reason,
        price_fen=price,
        payment_status=OrderPayment.PAID if price else OrderPayment.NOT_REQUIRED,
    )
    call.booking = booking
    if price:
        from yuyue.billing.settlement import schedule_settlement

        schedule_settlement(booking)
    _event(call, at, SYSTEM, "ended", reason=reason, seconds=seconds, price_fen=price)
    audit(None, "call.ended", booking, reason=reason, seconds=seconds, price=price)
    out.append({"type": "ended", "reason": reason, "seconds": seconds, "charged_fen": price})


def _missed(call: CallSession, now: dt.datetime, out: list[dict]) -> None:
    """The booked time is over and the meter never ran: who was missing decides the fee."""
    joined = set(call.events.filter(kind="join").values_list("party", flat=True))
    booking = call.booking
    if CONSULTANT not in joined:
        reason, fee = "consultant_absent", 0  # the customer pays nothing
    elif CUSTOMER not in joined:
        percent = int((booking.service.refund_rules or {}).get("no_show_percent", 0))
        reason, fee = "customer_absent", booking.price_fen * percent // 100
    elif call.together_at is not None:
        reason, fee = "no_media", 0  # both were there, their audio never connected
    else:
        reason, fee = "never_together", 0
    charged = charge_fee(booking, fee, f"call:{call.pk}:no_show")
    call.status, call.ended_at, call.end_reason = CallStatus.MISSED, now, reason
    call.metered_seconds, call.charged_fen = 0, charged
    apply_step(booking, "call_missed", actor=None, role=SYSTEM, note=reason)
    _event(call, now, SYSTEM, "missed", reason=reason, fee_fen=charged)
    out.append({"type": "ended", "reason": reason, "seconds": 0, "charged_fen": charged})


def close_cancelled(booking: Booking, *, fee: int, when: dt.datetime) -> None:
    """The order of a call was cancelled (inside that transaction): close the call, take the fee."""
    call = CallSession.objects.select_for_update().filter(booking=booking).first()
    if call is None or call.status not in OPEN:
        return
    charged = charge_fee(booking, fee, f"call:{call.pk}:cancel_fee") if fee else 0
    call.status, call.ended_at, call.end_reason = CallStatus.MISSED, when, "cancelled"
    call.metered_seconds, call.charged_fen = 0, charged
    call.save()
    _event(call, when, SYSTEM, "cancelled", fee_fen=charged)


# --- what the sides do ----------------------------------------------------------------------


def _act(booking_id: int, actor, now: dt.datetime | None, action) -> Update:
    now = now or timezone.now()
    out: list[dict] = []
    with transaction.atomic():
        call = (
            CallSession.objects.select_for_update(of=("self",))
            .select_related("booking", "booking__provider", "booking__service", "hold")
            .filter(booking_id=booking_id)
            .first()
        )
        if call is None:
            raise DomainError("not_found")
        party = SYSTEM
        if actor is not None:
            party = party_of(actor, call.booking)
            if party is None:
                raise DomainError("not_found")  # a stranger learns nothing, not even that it exists
        before = _state(call)
        _advance(call, now, out)  # first what the clock says (silent sides, limits) …
        action(call, party, now, out)  # … then what the side did …
        _advance(call, now, out)  # … and what follows from it
        if _state(call) != before:
            call.save()
    return Update(snapshot(call, now), out)


def _state(call: CallSession) -> tuple:
    return tuple(getattr(call, f.attname) for f in CallSession._meta.concrete_fields)


def _drop_media(call: CallSession, side: str) -> None:
    setattr(call, f"{side}_media", False)
    setattr(call, f"{side}_media_lost_at", None)


def _media_report(call: CallSession, side: str, state: str, now: dt.datetime, out) -> None:
    """What a side's page says of its audio. Connected: it counts at once. Lost: from now, if
    it is not back within the media grace (`_advance` decides)."""
    if state == "connected":
        if not getattr(call, f"{side}_media"):
            setattr(call, f"{side}_media", True)
            _event(call, now, side, "media", state=state)
            _presence_changed(call, now, out)
        elif _lost_at(call, side) is not None:
            setattr(call, f"{side}_media_lost_at", None)  # back within the grace
            _event(call, now, side, "media", state=state)
    elif getattr(call, f"{side}_media") and _lost_at(call, side) is None:
        setattr(call, f"{side}_media_lost_at", now)
        _event(call, now, side, "media", state=state)


def join(*, actor, booking_id: int, now: dt.datetime | None = None) -> Update:
    """A side enters the call's room (its websocket connected)."""

    def action(call, party, now, out):
        if call.status not in OPEN:
            raise DomainError("call_over")
        if now < call.booking.starts_at - dt.timedelta(minutes=10):
            raise DomainError("call_not_open", minutes=10)
        setattr(call, f"{party}_present", True)
        setattr(call, f"{party}_seen_at", now)
        _drop_media(call, party)  # a new connection: its audio is not up until it says so
        _event(call, now, party, "join")
        _presence_changed(call, now, out)

    return _act(booking_id, actor, now, action)


def heartbeat(
    *,
    actor,
    booking_id: int,
    now: dt.datetime | None = None,
    media: str | None = None,
    seen_at: dt.datetime | None = None,
) -> Update:
    """A side's page is alive (at `seen_at`, when its beat arrived; default now) and, with
    `media`, says what its audio connection's state is (`MEDIA_STATES`)."""
    if media is not None and media not in MEDIA_STATES:
        raise DomainError("invalid_input", f"media: one of {', '.join(sorted(MEDIA_STATES))}")

    def action(call, party, now, out):
        if call.status not in OPEN:
            return
        seen = min(seen_at or now, now)
        last = getattr(call, f"{party}_seen_at")
        if last is None or seen > last:
            setattr(call, f"{party}_seen_at", seen)
        if not getattr(call, f"{party}_present"):
            if not call.events.filter(party=party, kind="join").exists():
                return
            # counted as gone after a silence, but its connection is still up: it is back
            setattr(call, f"{party}_present", True)
            _event(call, now, party, "back")
            _presence_changed(call, now, out)
        if media is not None:
            _media_report(call, party, media, now, out)

    return _act(booking_id, actor, now, action)


def leave(*, actor, booking_id: int, now: dt.datetime | None = None) -> Update:
    """A side's connection closed (it may come back while the rules allow)."""

    def action(call, party, now, out):
        if call.status in OPEN and getattr(call, f"{party}_present"):
            setattr(call, f"{party}_present", False)
            _drop_media(call, party)
            _event(call, now, party, "leave")
            _presence_changed(call, now, out)

    return _act(booking_id, actor, now, action)


def hangup(*, actor, booking_id: int, now: dt.datetime | None = None) -> Update:
    """A side ends the call. Repeating it, or both at once, ends and bills it once."""

    def action(call, party, now, out):
        if call.status not in OPEN:
            return  # already over: the same answer again
        _event(call, now, party, "hangup")
        if call.first_live_at is None:
            setattr(call, f"{party}_present", False)  # nothing to bill yet: just leave
            _drop_media(call, party)
            _presence_changed(call, now, out)
            return
        _end(call, f"hangup_{party}", now, out)

    return _act(booking_id, actor, now, action)


def tick(*, booking_id: int, now: dt.datetime | None = None) -> Update:
    """Bring a call up to the server's clock (silent sides, hold, warnings, limits)."""
    return _act(booking_id, None, now, lambda call, party, now, out: None)


def sweep(now: dt.datetime | None = None) -> list[Update]:
    """Tick every call that is open and due: the worker's safety net when no side is connected."""
    now = now or timezone.now()
    due = CallSession.objects.filter(status__in=OPEN, booking__starts_at__lte=now).values_list(
        "booking_id", flat=True
    )
    return [tick(booking_id=b, now=now) for b in list(due)]
