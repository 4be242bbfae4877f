"""On-site races on real servers: providers grabbing one order, an accept racing its timeout,
operators reassigning at once."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from django.db import connections
from django.utils import timezone

from tests.conftest import make_user
from tests.livesrv import Call, bearer, storm
from yuyue.accounts.models import Provider
from yuyue.accounts.tokens import issue_token
from yuyue.core.codes import new_checkin_code
from yuyue.dispatch.models import Offer, OfferStatus
from yuyue.dispatch.services import expire_offer
from yuyue.orders.models import Booking, BookingStatus, Channel
from yuyue.scheduling.models import ProviderReservation, WorkingHours

from .conftest import SHANGHAI, assert_clean, outcome

HOME = (31.2304, 121.4737)


def _providers(n, merchant, service):
    out = []
    for i in range(n):
        user = make_user(f"Grabber {i}")
        p = Provider.objects.create(
            user=user,
            merchant=merchant,
            display_name=f"G{i}",
            verified=True,
            lat=HOME[0] + i * 0.001,
            lng=HOME[1],
            service_radius_km=10,
        )
        p.services.add(service)
        WorkingHours.objects.bulk_create(
            WorkingHours(provider=p, weekday=d, start=dt.time(0), end=dt.time(23, 59))
            for d in range(7)
        )
        out.append((p, issue_token(user=user, via="password")[0]))
    return out


def _open_order(customer, merchant, service, tomorrow_local) -> Booking:
    starts = dt.datetime.combine(tomorrow_local, dt.time(10), tzinfo=SHANGHAI)
    return Booking.objects.create(
        customer=customer,
        merchant=merchant,
        service=service,
        channel=Channel.DISPATCH,
        status=BookingStatus.AWAITING_PROVIDER,
        starts_at=starts,
        ends_at=starts + dt.timedelta(minutes=service.duration_minutes),
        address="x",
        lat=HOME[0],
        lng=HOME[1],
        code=new_checkin_code(),
    )


def _grab_rush(server, providers, booking):
    return storm(
        server.url,
        [
            Call("POST", f"/api/provider/grab/{booking.pk}", None, bearer(key))
            for _, key in providers
        ],
    )


@pytest.mark.django_db(transaction=True)
def test_ten_providers_grab_one_order(server, merchant, onsite_service, customer, tomorrow_local):
    providers = _providers(10, merchant, onsite_service)
    booking = _open_order(customer, merchant, onsite_service, tomorrow_local)
    replies = _grab_rush(server, providers, booking)
    assert_clean(replies, server)
    won = [r for r in replies if r.status == 200]
    lost = [r for r in replies if r.status == 409 and r.code == "already_taken"]
    assert (len(won), len(lost)) == (1, 9), outcome(replies)
    booking.refresh_from_db()
    assert booking.status == BookingStatus.ACCEPTED
    assert booking.provider_id == won[0].body["provider_id"]
    assert ProviderReservation.objects.filter(active=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_control_unguarded_grab_has_many_winners(
    unguarded_server, merchant, onsite_service, customer, tomorrow_local
):
    """Control: without the conditional UPDATE (the naive grab of unguarded.py) several
    providers 'win'."""
    providers = _providers(10, merchant, onsite_service)
    booking = _open_order(customer, merchant, onsite_service, tomorrow_local)
    replies = _grab_rush(unguarded_server, providers, booking)
    assert_clean(replies, unguarded_server)
    assert sum(r.status == 200 for r in replies) > 1, outcome(replies)


@pytest.mark.django_db(transaction=True)
def test_accept_racing_its_timeout_has_one_outcome(
    server, merchant, onsite_service, customer, tomorrow_local
):
    """The accept (through the server) and the timeout job (here) hit the offer's deadline
    together, many times over: each time exactly one of them takes effect."""
    [(provider, key)] = _providers(1, merchant, onsite_service)
    outcomes = set()
    for attempt in range(8):
        booking = _open_order(
            customer, merchant, onsite_service, tomorrow_local + dt.timedelta(days=attempt)
        )
        deadline = timezone.now() + dt.timedelta(milliseconds=400)
        offer = Offer.objects.create(
            booking=booking, provider=provider, round_no=1, expires_at=deadline
        )
        expired = []

        def timeout(offer_pk=offer.pk, deadline=deadline, expired=expired):
            time.sleep(max(0.0, (deadline - timezone.now()).total_seconds()))
            expired.append(expire_offer(offer_id=offer_pk))
            connections.close_all()

        job = threading.Thread(target=timeout)
        time.sleep(max(0.0, (deadline - timezone.now()).total_seconds() - 0.004 * attempt))
        job.start()
        [reply] = storm(
            server.url, [Call("POST", f"/api/provider/offers/{offer.pk}/accept", None, bearer(key))]
        )
        job.join()
        offer.refresh_from_db()
        booking.refresh_from_db()
        assert reply.status in (200, 409), reply.text
        if offer.status == OfferStatus.ACCEPTED:
            assert reply.status == 200 and expired == [False]
            assert booking.status == BookingStatus.ACCEPTED
            assert booking.provider_id == provider.pk
        else:
            assert offer.status == OfferStatus.EXPIRED
            assert reply.status == 409 and reply.code == "offer_expired"
            assert booking.status == BookingStatus.AWAITING_PROVIDER
            assert booking.provider_id is None
            assert not ProviderReservation.objects.filter(
                provider=provider, active=True, starts_at=booking.starts_at
            ).exists()
        outcomes.add(offer.status)
    print("outcomes seen:", sorted(outcomes))


@pytest.mark.django_db(transaction=True)
def test_two_operators_reassign_at_once(server, merchant, onsite_service, customer, tomorrow_local):
    providers = _providers(3, merchant, onsite_service)
    booking = _open_order(customer, merchant, onsite_service, tomorrow_local)
    # the order is with provider 0
    holder = providers[0][0]
    r = ProviderReservation.objects.create(
        provider=holder,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        blocked_until=booking.ends_at + dt.timedelta(minutes=onsite_service.buffer_minutes),
    )
    Booking.objects.filter(pk=booking.pk).update(
        status=BookingStatus.ACCEPTED, provider=holder, reservation=r
    )
    ops = [
        issue_token(user=make_user(f"Op {i}", is_operator=True), via="password")[0]
        for i in range(2)
    ]
    calls = [
        Call(
            "POST",
            f"/api/ops/orders/{booking.pk}/reassign",
            {"provider_id": providers[i + 1][0].pk, "from_provider_id": holder.pk},
            bearer(ops[i]),
        )
        for i in range(2)
    ]
    replies = storm(server.url, calls)
    assert_clean(replies, server)
    assert sorted((r.status, r.code if r.status != 200 else None) for r in replies) == [
        (200, None),
        (409, "already_taken"),
    ], outcome(replies)
    booking.refresh_from_db()
    winner = next(r for r in replies if r.status == 200).body["provider_id"]
    assert booking.provider_id == winner
    assert list(
        ProviderReservation.objects.filter(active=True).values_list("provider_id", flat=True)
    ) == [winner]
