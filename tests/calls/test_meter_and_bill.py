"""The meter on a controlled clock, the hold, warnings, the end and the bill — exactly once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction

from tests.conftest import make_user
from yuyue.billing import ledger
from yuyue.billing.models import AccountKind, Hold, HoldStatus, Payment, Transfer
from yuyue.billing.payments import wallet
from yuyue.billing.settlement import settle_order
from yuyue.calls import records
from yuyue.calls import services as calls
from yuyue.calls.models import CallEvent, CallSession
from yuyue.core.errors import DomainError
from yuyue.orders.models import Booking, BookingStatus, PaymentStatus

pytestmark = pytest.mark.django_db

S = dt.timedelta(seconds=1)


def both_join(booking, at):
    """Both sides enter the room and their pages report the audio connected."""
    consultant = booking.provider.user
    calls.join(actor=booking.customer, booking_id=booking.pk, now=at)
    calls.join(actor=consultant, booking_id=booking.pk, now=at)
    calls.heartbeat(actor=booking.customer, booking_id=booking.pk, now=at, media="connected")
    return calls.heartbeat(actor=consultant, booking_id=booking.pk, now=at, media="connected")


def audio(booking, at, *who):
    """`who`'s pages report their audio connected at `at`."""
    for user in who:
        update = calls.heartbeat(actor=user, booking_id=booking.pk, now=at, media="connected")
    return update


def beat(booking, at, *who):
    """Heartbeats from `who` at `at`; returns what the server told both sides meanwhile."""
    told = []
    for user in who:
        told += calls.heartbeat(actor=user, booking_id=booking.pk, now=at).messages
    return told


def talk(booking, start, seconds, step=5):
    """Both sides send heartbeats every `step` seconds for `seconds`, the server ticking after
    each; returns [(second, message)] of what both sides were told."""
    told = []
    for t in range(step, seconds + 1, step):
        messages = beat(booking, start + t * S, booking.customer, booking.provider.user)
        messages += calls.tick(booking_id=booking.pk, now=start + t * S).messages
        told += [(t, m) for m in messages]
    return told


@pytest.mark.parametrize(
    "billing, seconds, price",
    [
        ("per_second", 19, 0),
        ("per_second", 20, 40),
        ("per_second", 60, 120),
        ("per_second", 61, 122),
        ("per_minute", 19, 0),
        ("per_minute", 20, 120),
        ("per_minute", 60, 120),
        ("per_minute", 61, 240),
    ],
)
def test_hang_up_bills_the_metered_seconds(book_call, billing, seconds, price):
    booking = book_call(rules={"billing": billing, "grace_seconds": 20}, funds=10_000)
    t0 = booking.starts_at
    live = both_join(booking, t0).snapshot
    assert live["status"] == "live" and live["hold_fen"] == 15 * 120  # the booked 15 minutes
    assert wallet(booking.customer_id).available == 10_000 - 1800
    talk(booking, t0, seconds)
    update = calls.hangup(actor=booking.customer, booking_id=booking.pk, now=t0 + seconds * S)

    assert update.snapshot["status"] == "ended"
    assert update.snapshot["elapsed_seconds"] == seconds
    assert update.snapshot["charged_fen"] == price
    assert {
        "type": "ended",
        "reason": "hangup_customer",
        "seconds": seconds,
        "charged_fen": price,
    } in update.messages
    cash = wallet(booking.customer_id)
    assert (cash.balance, cash.held) == (10_000 - price, 0)  # the rest of the hold released
    hold = Hold.objects.get(key=f"call:{booking.call.pk}")
    assert (hold.status, hold.posted_amount) == (HoldStatus.POSTED, price)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.COMPLETED
    assert booking.price_fen == price
    assert booking.payment_status == (PaymentStatus.PAID if price else PaymentStatus.NOT_REQUIRED)
    assert ledger.unbalanced_transfers() == []


def test_repeated_hang_ups_and_ticks_bill_once(book_call):
    booking = book_call(funds=10_000)
    t0 = booking.starts_at
    both_join(booking, t0)
    talk(booking, t0, 60)
    first = calls.hangup(actor=booking.customer, booking_id=booking.pk, now=t0 + 61 * S)
    again = calls.hangup(actor=booking.provider.user, booking_id=booking.pk, now=t0 + 62 * S)
    calls.tick(booking_id=booking.pk, now=t0 + 90 * S)
    assert first.snapshot["charged_fen"] == again.snapshot["charged_fen"] == 122
    assert again.messages == []
    assert CallEvent.objects.filter(call=booking.call, kind="ended").count() == 1
    assert Transfer.objects.filter(booking=booking, kind="call_charge").count() == 1
    assert Payment.objects.filter(booking=booking).count() == 1
    assert wallet(booking.customer_id).balance == 10_000 - 122


def test_the_meter_waits_for_both_sides(book_call):
    booking = book_call(funds=10_000)
    t0 = booking.starts_at
    alone = calls.join(actor=booking.customer, booking_id=booking.pk, now=t0)
    assert alone.snapshot["status"] == "waiting" and alone.snapshot["hold_fen"] == 0
    for t in range(5, 41, 5):
        beat(booking, t0 + t * S, booking.customer)
    calls.join(actor=booking.provider.user, booking_id=booking.pk, now=t0 + 40 * S)
    audio(booking, t0 + 40 * S, booking.customer, booking.provider.user)
    talk_end = t0 + 40 * S
    for t in range(5, 31, 5):
        beat(booking, talk_end + t * S, booking.customer, booking.provider.user)
    update = calls.hangup(actor=booking.provider.user, booking_id=booking.pk, now=talk_end + 30 * S)
    assert update.snapshot["elapsed_seconds"] == 30  # not the 40 s the customer waited alone
    assert update.snapshot["end_reason"] == "hangup_consultant"


def test_a_silent_side_pauses_the_meter_from_its_last_heartbeat(book_call):
    booking = book_call(rules={"heartbeat_gap_seconds": 15, "rejoin_seconds": 120}, funds=10_000)
    t0, customer, consultant = booking.starts_at, booking.customer, booking.provider.user
    both_join(booking, t0)
    talk(booking, t0, 30)  # both beat until t0+30, then the consultant's network dies
    for t in range(35, 71, 5):
        beat(booking, t0 + t * S, customer)
        if t == 50:
            paused = calls.tick(booking_id=booking.pk, now=t0 + 50 * S).snapshot
    assert paused["status"] == "paused" and not paused["consultant_present"]
    assert paused["elapsed_seconds"] == 30  # stopped at the last proof of presence
    gone = CallEvent.objects.get(call=booking.call, kind="gone")
    assert gone.party == "consultant"
    # the consultant comes back and they talk 30 s more
    calls.join(actor=consultant, booking_id=booking.pk, now=t0 + 70 * S)
    audio(booking, t0 + 70 * S, consultant)
    talk(booking, t0 + 70 * S, 30)
    done = calls.hangup(actor=customer, booking_id=booking.pk, now=t0 + 100 * S).snapshot
    assert (done["elapsed_seconds"], done["charged_fen"]) == (60, 120)


def test_a_dropped_side_ends_the_call_when_the_rules_say_stop(book_call):
    booking = book_call(rules={"on_drop": "stop", "heartbeat_gap_seconds": 10}, funds=10_000)
    t0 = booking.starts_at
    both_join(booking, t0)
    talk(booking, t0, 25)
    calls.leave(actor=booking.customer, booking_id=booking.pk, now=t0 + 27 * S)
    call = CallSession.objects.get(booking=booking)
    assert (call.status, call.end_reason, call.metered_seconds) == ("ended", "dropped", 27)
    assert call.charged_fen == 54


def test_nobody_back_within_the_rejoin_window_ends_the_call(book_call):
    booking = book_call(rules={"rejoin_seconds": 60}, funds=10_000)
    t0 = booking.starts_at
    both_join(booking, t0)
    talk(booking, t0, 30)
    calls.leave(actor=booking.customer, booking_id=booking.pk, now=t0 + 30 * S)
    calls.leave(actor=booking.provider.user, booking_id=booking.pk, now=t0 + 31 * S)
    assert calls.tick(booking_id=booking.pk, now=t0 + 80 * S).snapshot["status"] == "paused"
    swept = calls.sweep(now=t0 + 91 * S)
    assert [u.snapshot["end_reason"] for u in swept] == ["abandoned"]
    assert swept[0].snapshot["charged_fen"] == 60


def test_balance_runs_out_mid_call_warned_then_ended_never_negative(book_call, customer):
    # Hold one minute at the start; the wallet has 200 fen = 100 s at 120 fen/min.
    booking = book_call(rules={"hold_minutes": 1, "extend_minutes": 5}, funds=200)
    t0 = booking.starts_at
    joined = both_join(booking, t0).snapshot
    # one minute held at the start, at once extended by what the balance allows (80 fen)
    assert CallEvent.objects.get(call=booking.call, kind="live").detail == {"hold_fen": 120}
    assert joined["hold_fen"] == 200 and joined["seconds_left"] == 100
    warnings, ended = [], []
    for t in range(5, 131, 5):
        messages = beat(booking, t0 + t * S, booking.customer, booking.provider.user)
        messages += calls.tick(booking_id=booking.pk, now=t0 + t * S).messages
        warnings += [(t, m) for m in messages if m["type"] == "warning"]
        ended += [(t, m) for m in messages if m["type"] == "ended"]
    assert CallEvent.objects.filter(call=booking.call, kind="hold_extended").count() == 1
    assert [(t, m["reason"]) for t, m in warnings] == [(40, "funds")]  # once, 60 s before
    assert warnings[0][1]["seconds_left"] == 60
    assert [(t, m["reason"], m["seconds"], m["charged_fen"]) for t, m in ended] == [
        (100, "funds_exhausted", 100, 200)
    ]
    cash = wallet(customer.pk)
    assert (cash.balance, cash.held) == (0, 0)


def test_booked_time_runs_out(book_call):
    booking = book_call(minutes=15, funds=10_000)
    t0 = booking.starts_at
    both_join(booking, t0)
    told = talk(booking, t0, 895)
    assert told == [(840, {"type": "warning", "seconds_left": 60, "reason": "booked_time"})]
    late = calls.tick(booking_id=booking.pk, now=t0 + 905 * S)  # the tick comes 5 s late
    assert late.snapshot["end_reason"] == "time_up"
    assert (late.snapshot["elapsed_seconds"], late.snapshot["charged_fen"]) == (900, 1800)


def test_a_customer_who_cannot_cover_the_hold_is_told_and_the_meter_waits(book_call, customer):
    booking = book_call(funds=1800)
    with transaction.atomic():  # the money is spent elsewhere before the call
        ledger.post_transfer(
            key="spent",
            kind="test",
            legs=[
                (wallet(customer.pk), -1000),
                (ledger.account(AccountKind.GATEWAY_CLEARING), 1000),
            ],
        )
    t0 = booking.starts_at
    update = both_join(booking, t0)
    assert update.snapshot["status"] == "waiting"
    assert update.snapshot["blocked"] == "insufficient_funds"
    from tests.calls.conftest import top_up

    top_up(customer, 1000, key="again")
    later = calls.tick(booking_id=booking.pk, now=t0 + 5 * S)
    assert later.snapshot["status"] == "waiting"  # a tick does not start it: a side rejoins
    beat(booking, t0 + 6 * S, booking.customer, booking.provider.user)
    calls.join(actor=booking.customer, booking_id=booking.pk, now=t0 + 7 * S)
    again = audio(booking, t0 + 7 * S, booking.customer)
    assert again.snapshot["status"] == "live" and again.snapshot["blocked"] == ""


def test_settlement_gives_the_consultant_their_share(book_call, merchant):
    merchant.commission_bp, merchant.provider_share_bp = 2000, 5000
    merchant.save()
    booking = book_call(funds=10_000)
    t0 = booking.starts_at
    both_join(booking, t0)
    talk(booking, t0, 300)
    calls.hangup(actor=booking.customer, booking_id=booking.pk, now=t0 + 300 * S)
    settle_order(booking_id=booking.pk)
    frozen = ledger.account(AccountKind.PROVIDER_FROZEN, "provider", booking.provider_id)
    platform = ledger.account(AccountKind.PLATFORM_REVENUE)
    assert frozen.balance == (600 - 120) // 2  # 600 fen; 20 % commission; half the rest
    assert platform.balance == 120


def test_strangers_cannot_join_or_read(book_call, other_customer, operator):
    booking = book_call(funds=10_000)
    for act in (calls.join, calls.heartbeat, calls.hangup, calls.leave):
        with pytest.raises(DomainError) as err:
            act(actor=other_customer, booking_id=booking.pk, now=booking.starts_at)
        assert err.value.code == "not_found"
    with pytest.raises(DomainError):
        records.record(actor=other_customer, booking_id=booking.pk)
    assert records.record(actor=operator, booking_id=booking.pk)["status"] == "waiting"
    # an operator reads the record but is not a party to the call
    with pytest.raises(DomainError):
        calls.join(actor=operator, booking_id=booking.pk, now=booking.starts_at)
    assert not CallEvent.objects.filter(call=booking.call).exists()


def test_the_room_opens_ten_minutes_before(book_call):
    booking = book_call(funds=10_000)
    with pytest.raises(DomainError) as err:
        calls.join(
            actor=booking.customer, booking_id=booking.pk, now=booking.starts_at - 11 * 60 * S
        )
    assert err.value.code == "call_not_open"


def test_consultant_who_never_joins_costs_nothing(book_call, customer):
    booking = book_call(funds=10_000)
    calls.join(actor=customer, booking_id=booking.pk, now=booking.starts_at)
    swept = calls.sweep(now=booking.ends_at + S)
    assert swept[0].snapshot["status"] == "missed"
    assert swept[0].snapshot["end_reason"] == "consultant_absent"
    assert wallet(customer.pk).balance == 10_000
    booking.refresh_from_db()
    assert booking.status == BookingStatus.NO_SHOW


def test_customer_who_never_joins_pays_the_no_show_fee(book_call, customer):
    booking = book_call(funds=10_000)  # rules in the fixture: no_show_percent 100
    calls.join(actor=booking.provider.user, booking_id=booking.pk, now=booking.starts_at)
    swept = calls.sweep(now=booking.ends_at + S)
    assert swept[0].snapshot["end_reason"] == "customer_absent"
    assert swept[0].snapshot["charged_fen"] == 1800
    assert wallet(customer.pk).balance == 10_000 - 1800


def test_booking_a_call(book_call, customer, call_service, consultant):
    from yuyue.orders.services import book_provider

    from .conftest import next_start

    booking = book_call(minutes=45, funds=10_000)
    assert (booking.channel, booking.status, booking.payment_status) == (
        "call",
        BookingStatus.ACCEPTED,
        PaymentStatus.METERED,
    )
    assert booking.ends_at - booking.starts_at == dt.timedelta(minutes=45)
    assert booking.price_fen == 45 * 120  # the estimate for the booked length
    assert wallet(customer.pk).held == 0  # nothing is held until the call starts
    for minutes in (0, 10, 16, 181 * 60, -15):
        with pytest.raises(DomainError) as err:
            book_provider(
                actor=customer,
                service_id=call_service.pk,
                provider_id=consultant.pk,
                starts_at=next_start(5),
                minutes=minutes,
            )
        assert err.value.code == "invalid_call_length"
    poor = make_user("Poor Pan")
    with pytest.raises(DomainError) as err:
        book_provider(
            actor=poor,
            service_id=call_service.pk,
            provider_id=consultant.pk,
            starts_at=next_start(5),
            minutes=15,
        )
    assert err.value.code == "insufficient_funds"
    assert Booking.objects.filter(customer=poor).count() == 0


def test_a_side_counted_gone_is_back_with_its_next_heartbeat(book_call):
    booking = book_call(rules={"heartbeat_gap_seconds": 15}, funds=10_000)
    t0, customer, consultant = booking.starts_at, booking.customer, booking.provider.user
    both_join(booking, t0)
    talk(booking, t0, 20)
    for t in (25, 30, 35, 40, 45):
        beat(booking, t0 + t * S, customer)
    assert calls.tick(booking_id=booking.pk, now=t0 + 40 * S).snapshot["status"] == "paused"
    back = audio(booking, t0 + 45 * S, consultant).snapshot  # its page beats with its audio
    assert back["status"] == "live" and back["consultant_present"]
    talk(booking, t0 + 45 * S, 15)
    done = calls.hangup(actor=consultant, booking_id=booking.pk, now=t0 + 60 * S).snapshot
    assert done["elapsed_seconds"] == 20 + 15  # the silent 25 s are not billed
    kinds = [e.kind for e in CallEvent.objects.filter(call=booking.call, party="consultant")]
    assert "gone" in kinds and "back" in kinds


def test_coming_back_after_the_rejoin_window_is_too_late(book_call):
    booking = book_call(rules={"rejoin_seconds": 60}, funds=10_000)
    t0 = booking.starts_at
    both_join(booking, t0)
    talk(booking, t0, 10)
    calls.leave(actor=booking.customer, booking_id=booking.pk, now=t0 + 10 * S)
    with pytest.raises(DomainError) as err:
        calls.join(actor=booking.customer, booking_id=booking.pk, now=t0 + 75 * S)
    assert err.value.code == "call_over"
    call = CallSession.objects.get(booking=booking)
    assert call.status == "paused"  # the refused join changed nothing; the sweep ends it
    assert calls.sweep(now=t0 + 75 * S)[0].snapshot["end_reason"] == "abandoned"


def test_audio_lost_mid_call_pauses_the_meter_from_the_report_and_the_bill_matches(book_call):
    """Both talk 30 s; the customer's page reports its connection failed and it never comes
    back, while both pages keep beating: the meter stops at the report (after the 5 s grace
    it is not taken back), the call pauses, and the bill is the 30 s."""
    booking = book_call(rules={"media_grace_seconds": 5, "rejoin_seconds": 120}, funds=10_000)
    t0, customer, consultant = booking.starts_at, booking.customer, booking.provider.user
    both_join(booking, t0)
    talk(booking, t0, 30, step=1)
    calls.heartbeat(actor=customer, booking_id=booking.pk, now=t0 + 30 * S, media="failed")
    shown = []
    for t in range(31, 61):
        for who in (customer, consultant):
            calls.heartbeat(actor=who, booking_id=booking.pk, now=t0 + t * S)
        shown.append(calls.tick(booking_id=booking.pk, now=t0 + t * S).snapshot)
    assert shown[0]["status"] == "live" and shown[0]["elapsed_seconds"] == 30  # in the grace
    assert {s["status"] for s in shown[5:]} == {"paused"}
    assert {s["elapsed_seconds"] for s in shown} == {30}  # never counted on, never taken back
    assert not shown[-1]["customer_media"] and shown[-1]["consultant_media"]
    done = calls.hangup(actor=consultant, booking_id=booking.pk, now=t0 + 60 * S).snapshot
    assert (done["elapsed_seconds"], done["charged_fen"]) == (30, 60)
    kinds = [(e.party, e.kind) for e in CallEvent.objects.filter(call=booking.call)]
    assert ("customer", "media_lost") in kinds and ("system", "paused") in kinds


def test_a_blip_shorter_than_the_grace_does_not_pause_the_meter(book_call):
    booking = book_call(rules={"media_grace_seconds": 5}, funds=10_000)
    t0, customer = booking.starts_at, booking.customer
    both_join(booking, t0)
    talk(booking, t0, 10, step=1)
    calls.heartbeat(actor=customer, booking_id=booking.pk, now=t0 + 10 * S, media="disconnected")
    held = calls.tick(booking_id=booking.pk, now=t0 + 12 * S).snapshot
    assert (held["status"], held["elapsed_seconds"]) == ("live", 10)  # shown up to the report
    back = audio(booking, t0 + 13 * S, customer).snapshot
    assert back["status"] == "live"
    talk(booking, t0 + 13 * S, 7, step=1)
    done = calls.hangup(actor=customer, booking_id=booking.pk, now=t0 + 20 * S).snapshot
    assert done["elapsed_seconds"] == 20  # the 3 s blip is part of the call
    assert not CallEvent.objects.filter(call=booking.call, kind__in=["media_lost", "paused"])


def test_the_meter_shown_never_runs_ahead_of_the_bill_when_a_side_freezes(book_call):
    """The consultant's page freezes at 20 s (no more beats, its socket still open); the
    customer's page keeps beating and the server ticks every second. What both are shown stops
    at 20 and stays there through the pause; the bill is 20 s."""
    booking = book_call(rules={"heartbeat_gap_seconds": 15}, funds=10_000)
    t0, customer = booking.starts_at, booking.customer
    both_join(booking, t0)
    shown = []
    for t in range(1, 41):
        who = [customer, booking.provider.user] if t <= 20 else [customer]
        beat(booking, t0 + t * S, *who)
        shown.append(calls.tick(booking_id=booking.pk, now=t0 + t * S).snapshot)
    elapsed = [s["elapsed_seconds"] for s in shown]
    assert elapsed == sorted(elapsed) and max(elapsed) == 20  # never ahead, never back
    assert elapsed[:20] == list(range(1, 21))  # while both beat it counts with the clock
    assert shown[-1]["status"] == "paused"
    done = calls.hangup(actor=customer, booking_id=booking.pk, now=t0 + 40 * S).snapshot
    assert (done["elapsed_seconds"], done["charged_fen"]) == (20, 40)


def test_a_media_state_must_be_one_a_browser_reports(book_call):
    booking = book_call(funds=10_000)
    calls.join(actor=booking.customer, booking_id=booking.pk, now=booking.starts_at)
    with pytest.raises(DomainError) as err:
        calls.heartbeat(actor=booking.customer, booking_id=booking.pk, media="great")
    assert err.value.code == "invalid_input"
