"""Both sides of a call hang up at once, many times over, on real servers: billed once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.calls.conftest import move_to_now, next_start, top_up
from tests.livesrv import Call, bearer, storm
from yuyue.accounts.models import Provider
from yuyue.billing.models import Hold, HoldStatus, Payment, Transfer
from yuyue.billing.payments import wallet
from yuyue.calls import services as calls
from yuyue.calls.models import CallEvent, CallSession
from yuyue.catalog.models import Service, ServiceKind
from yuyue.orders.services import book_provider
from yuyue.scheduling.models import WorkingHours

from .conftest import assert_clean, outcome, people_with_keys

CLIENTS = 24


@pytest.mark.django_db(transaction=True)
def test_concurrent_hang_ups_bill_once(server, merchant):
    service = Service.objects.create(
        merchant=merchant,
        name="Counselling",
        kind=ServiceKind.REMOTE,
        duration_minutes=30,
        step_minutes=15,
        base_price_fen=600,
        call_rules={"grace_seconds": 0, "heartbeat_gap_seconds": 300},
    )
    [(customer, customer_key), (consultant_user, consultant_key)] = people_with_keys(2)
    consultant = Provider.objects.create(
        user=consultant_user, merchant=merchant, display_name="Q", verified=True
    )
    consultant.services.add(service)
    for day in range(7):
        WorkingHours.objects.create(
            provider=consultant, weekday=day, start=dt.time(0), end=dt.time(23, 59)
        )
    top_up(customer, 50_000)
    booking = book_provider(
        actor=customer,
        service_id=service.pk,
        provider_id=consultant.pk,
        starts_at=next_start(3),
        minutes=30,
    )
    booking = move_to_now(booking, lead_minutes=0)
    began = timezone.now() - dt.timedelta(seconds=30)
    calls.join(actor=customer, booking_id=booking.pk, now=began)
    calls.join(actor=consultant_user, booking_id=booking.pk, now=began)
    for who in (customer, consultant_user):  # their audio connects
        calls.heartbeat(actor=who, booking_id=booking.pk, now=began, media="connected")

    keys = [customer_key, consultant_key]
    replies = storm(
        server.url,
        [
            Call("POST", f"/api/calls/{booking.pk}/hangup", None, bearer(keys[i % 2]))
            for i in range(CLIENTS)
        ],
    )
    print(outcome(replies))
    assert_clean(replies, server)
    assert all(r.status == 200 for r in replies), outcome(replies)
    call = CallSession.objects.get(booking=booking)
    assert call.status == "ended" and call.metered_seconds >= 30
    assert {r.body["charged_fen"] for r in replies} == {call.charged_fen}
    assert CallEvent.objects.filter(call=call, kind="ended").count() == 1
    assert Transfer.objects.filter(booking=booking, kind="call_charge").count() == 1
    assert Payment.objects.filter(booking=booking).count() == 1
    hold = Hold.objects.get(pk=call.hold_id)
    assert (hold.status, hold.posted_amount) == (HoldStatus.POSTED, call.charged_fen)
    cash = wallet(customer.pk)
    assert (cash.balance, cash.held) == (50_000 - call.charged_fen, 0)
