"""A call's clock as the server keeps it: the time elapsed, the time shown (never ahead of what will
be billed), the limit its hold allows, and the snapshot both sides are sent.
"""

from __future__ import annotations

import datetime as dt

from yuyue.pricing import metering

from .models import SIDES, CallSession, CallStatus


def _rules(call: CallSession) -> metering.Rules:
    data = dict(call.rules)
    data["reminders"] = tuple(data.get("reminders", ()))
    return metering.Rules(**data)


# --- the meter ---------------------------------------------------------------------------------


def _ms(delta: dt.timedelta) -> int:
    return max(0, int(delta.total_seconds() * 1000))


def elapsed_ms(call: CallSession, now: dt.datetime) -> int:
    running = _ms(now - call.live_since) if call.status == CallStatus.LIVE else 0
    return call.metered_ms + running


def shown_ms(call: CallSession, now: dt.datetime) -> int:
    """The elapsed time the sides are shown: while the meter runs, only up to the last moment
    both sides are known to be there with their audio (a later end of the segment is never
    earlier than that, so what is shown is never taken back)."""
    if call.status != CallStatus.LIVE or call.live_since is None:
        return elapsed_ms(call, now)
    sure = [now]
    for side in SIDES:
        sure += [t for t in (getattr(call, f"{side}_seen_at"), _lost_at(call, side)) if t]
    return call.metered_ms + _ms(max(call.live_since, min(sure)) - call.live_since)


def _lost_at(call: CallSession, side: str) -> dt.datetime | None:
    return getattr(call, f"{side}_media_lost_at")


def limit_seconds(call: CallSession) -> int:
    """How long the meter may run in all: the booked time, or less if the hold covers less."""
    if call.hold_id is None:
        return call.booked_seconds
    covered = metering.affordable_seconds(call.hold.amount, call.rate_fen, _rules(call))
    return min(call.booked_seconds, covered)


def snapshot(call: CallSession, now: dt.datetime) -> dict:
    rules = _rules(call)
    seconds = shown_ms(call, now) // 1000
    cost = metering.charge(seconds, call.rate_fen, rules)
    if call.hold_id is not None:
        cost = min(cost, call.hold.amount)
    ended = call.status in (CallStatus.ENDED, CallStatus.MISSED)
    return {
        "booking_id": call.booking_id,
        "status": call.status,
        "customer_present": call.customer_present,
        "consultant_present": call.consultant_present,
        "customer_media": call.customer_media,
        "consultant_media": call.consultant_media,
        "elapsed_seconds": call.metered_seconds
        if ended and call.metered_seconds is not None
        else seconds,
        "cost_fen": call.charged_fen if ended and call.charged_fen is not None else cost,
        "seconds_left": 0 if ended else max(0, limit_seconds(call) - seconds),
        "booked_seconds": call.booked_seconds,
        "rate_fen": call.rate_fen,
        "billing": rules.billing,
        "grace_seconds": rules.grace_seconds,
        "hold_fen": call.hold.amount if call.hold_id else 0,
        "blocked": call.blocked,
        "end_reason": call.end_reason,
        "charged_fen": call.charged_fen,
        "metered_seconds": call.metered_seconds,
        "server_time": now.isoformat(),
    }
