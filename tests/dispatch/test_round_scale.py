"""A dispatch round at scale: a fixed number of statements whatever the number of pairs, the
same rules as taking one order (checked against an independent one-pair-at-a-time reference),
orders that wait for pending offers instead of going to the operators, and the merchants'
dispatch policies."""

from __future__ import annotations

import datetime as dt
import itertools
import random
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from tests.conftest import make_user
from yuyue.accounts.models import Duty, Provider
from yuyue.catalog.models import DispatchPolicy, Service, ServiceKind
from yuyue.dispatch import candidates, record, services
from yuyue.dispatch.models import Breach, Offer, OfferStatus
from yuyue.orders.models import Booking, BookingStatus, Channel
from yuyue.scheduling.availability import haversine_km, provider_works
from yuyue.scheduling.models import (
    AvailabilityException,
    ExceptionKind,
    ProviderReservation,
    WorkingHours,
)

from .conftest import HOME, SH

KM = 1 / 111.195  # degrees of latitude per km


def hire(merchant, service, name, *, north_km=0.0, rating=5.0, radius=10.0, **extra):
    p = Provider.objects.create(
        user=make_user(name),
        merchant=merchant,
        display_name=name,
        verified=True,
        rating=rating,
        lat=HOME[0] + north_km * KM,
        lng=HOME[1],
        service_radius_km=radius,
        **extra,
    )
    p.services.add(service)
    WorkingHours.objects.bulk_create(
        WorkingHours(provider=p, weekday=d, start=dt.time(8), end=dt.time(20)) for d in range(7)
    )
    return p


def open_order(customer, service, starts_at, *, north_km=0.0, lat=None, lng=None):
    return Booking.objects.create(
        customer=customer,
        merchant=service.merchant,
        service=service,
        channel=Channel.DISPATCH,
        status=BookingStatus.AWAITING_PROVIDER,
        starts_at=starts_at,
        ends_at=starts_at + dt.timedelta(minutes=service.duration_minutes),
        lat=HOME[0] + north_km * KM if lat is None else lat,
        lng=HOME[1] if lng is None else lng,
        address="1 Nanjing Rd",
        code=f"D{Booking.objects.count():07d}{random.randrange(10**6):06d}",
    )


def statements_of_a_round(customer, merchant, service, day, n_orders, n_providers):
    for k in range(n_providers):
        hire(merchant, service, f"P{n_providers}-{k}", north_km=(k % 7) * 0.5)
    for k in range(n_orders):
        when = dt.datetime.combine(day, dt.time(8 + k % 10), tzinfo=SH)
        open_order(customer, service, when, north_km=(k % 5) * 0.7)
    with CaptureQueriesContext(connection) as seen:
        offers = services.run_dispatch_round()
    return len(seen.captured_queries), len(offers)


def test_a_round_costs_the_same_statements_for_any_number_of_pairs(
    customer, merchant, onsite_service, tomorrow_local
):
    small = statements_of_a_round(customer, merchant, onsite_service, tomorrow_local, 2, 3)
    Offer.objects.all().delete()
    Booking.objects.all().delete()
    Provider.objects.update(active=False)
    large = statements_of_a_round(customer, merchant, onsite_service, tomorrow_local, 24, 40)
    assert small[1] == 2 and large[1] == 24  # every order offered: a real round each time
    assert small[0] == large[0], (small, large)  # 6 pairs or 960: the same statements
    assert large[0] <= 17


def reference(provider: Provider, booking: Booking) -> str:
    """The rules one pair at a time through the ORM: what a round asked before."""
    if not (provider.active and provider.verified):
        return "provider_unqualified"
    if not provider.services.filter(pk=booking.service_id).exists():
        return "provider_unqualified"
    if (
        provider.lat is None
        or haversine_km(provider.lat, provider.lng, booking.lat, booking.lng)
        > provider.service_radius_km
    ):
        return "outside_service_area"
    active = Booking.objects.filter(provider=provider, status__in=candidates.ACTIVE).count()
    if active >= provider.max_open_orders:
        return "provider_at_capacity"
    if not provider_works(provider, booking.starts_at, booking.ends_at):
        return "provider_unavailable"
    blocked = booking.ends_at + dt.timedelta(minutes=booking.service.buffer_minutes)
    if ProviderReservation.objects.filter(
        provider=provider, active=True, starts_at__lt=blocked, blocked_until__gt=booking.starts_at
    ).exists():
        return "provider_busy"
    return ""


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_round_rules_agree_with_one_pair_at_a_time(
    seed, customer, merchant, onsite_service, other_merchant
):
    """Random providers (some in Berlin, whose clocks go forward on 28 March 2027), hours,
    leave and extra hours, reservations, skills and radii; random orders around that day.
    Every pair's reason from the bulk rules equals the one-pair reference's."""
    rng = random.Random(seed)
    other = Service.objects.create(
        merchant=merchant, name="Ironing", kind=ServiceKind.ON_SITE, duration_minutes=60
    )
    berlin = ZoneInfo("Europe/Berlin")
    other_merchant.timezone = "Europe/Berlin"
    other_merchant.save()
    days = [dt.date(2027, 3, 27), dt.date(2027, 3, 28), dt.date(2027, 3, 29)]
    providers = []
    for k in range(12):
        p = Provider.objects.create(
            user=make_user(f"R{k}"),
            merchant=other_merchant if k % 3 == 0 else merchant,
            display_name=f"R{k}",
            verified=rng.random() > 0.1,
            active=rng.random() > 0.1,
            lat=None if k == 8 else HOME[0] + rng.uniform(-4, 4) * KM,
            lng=HOME[1],
            service_radius_km=rng.uniform(2, 12),
            max_open_orders=rng.choice([0, 5, 5, 5]),
        )
        p.services.add(*rng.sample([onsite_service, other], rng.choice([1, 1, 2])))
        for d in range(7):
            start = rng.choice([0, 1, 2, 6, 8])
            WorkingHours.objects.create(
                provider=p, weekday=d, start=dt.time(start), end=dt.time(rng.choice([12, 20, 23]))
            )
        day = rng.choice(days)
        AvailabilityException.objects.create(
            provider=p,
            date=day,
            start=dt.time(rng.choice([9, 13])),
            end=dt.time(rng.choice([14, 17])),
            kind=rng.choice([ExceptionKind.LEAVE, ExceptionKind.EXTRA]),
        )
        tz = berlin if p.merchant_id == other_merchant.pk else SH
        for _ in range(3):
            at = dt.datetime.combine(rng.choice(days), dt.time(rng.choice([1, 3, 10, 15])), tz)
            if not ProviderReservation.objects.filter(
                provider=p, starts_at__lt=at + dt.timedelta(hours=3), blocked_until__gt=at
            ).exists():
                ProviderReservation.objects.create(
                    provider=p,
                    starts_at=at,
                    ends_at=at + dt.timedelta(hours=2),
                    blocked_until=at + dt.timedelta(hours=2, minutes=rng.choice([0, 30])),
                )
        providers.append(p)
    orders = []
    for _ in range(24):
        service = rng.choice([onsite_service, other])
        tz = rng.choice([SH, berlin])
        at = dt.datetime.combine(
            rng.choice(days), dt.time(rng.choice([1, 2, 3, 9, 10, 11, 15, 16, 22])), tz
        )
        orders.append(open_order(customer, service, at, north_km=rng.uniform(-4, 4)))
    accepted = orders[0]
    Booking.objects.filter(pk=accepted.pk).update(
        status=BookingStatus.ACCEPTED, provider=providers[1]
    )
    batch = candidates.Orders.of(
        list(Booking.objects.select_related("service").filter(pk__in=[o.pk for o in orders]))
    )
    pool = candidates.load_pool(
        {o.service_id for o in orders}, provider_ids=[p.pk for p in providers]
    )
    pairs = np.array(list(itertools.product(range(len(batch)), range(len(pool)))))
    got = candidates.reasons(batch, pool, pairs[:, 0], pairs[:, 1])
    by_id = {p.pk: p for p in Provider.objects.all()}
    seen = set()
    for (i, j), code in zip(pairs, got, strict=True):
        want = reference(by_id[int(pool.ids[j])], batch.items[i])
        assert candidates.REASONS[code] == want, (batch.items[i], by_id[int(pool.ids[j])])
        seen.add(want)
    assert seen == set(candidates.REASONS)  # the instance exercises every rule


def test_an_order_waiting_for_a_pending_offer_does_not_go_to_the_operators(
    settings, customer, merchant, onsite_service, tomorrow_local
):
    settings.YUYUE_DISPATCH_MAX_ROUNDS = 1
    only = hire(merchant, onsite_service, "Only")
    first = open_order(
        customer, onsite_service, dt.datetime.combine(tomorrow_local, dt.time(9), SH)
    )
    second = open_order(
        customer, onsite_service, dt.datetime.combine(tomorrow_local, dt.time(14), SH)
    )
    offers = services.run_dispatch_round()
    assert [(o.booking_id, o.provider_id) for o in offers] == [(first.pk, only.pk)]
    second.refresh_from_db()
    assert not second.needs_operator  # the only provider holds an offer that may end
    services.reject_offer(actor=only.user, offer_id=offers[0].pk, reason="busy")
    (nxt,) = services.run_dispatch_round()
    assert nxt.booking_id == second.pk
    first.refresh_from_db()
    assert first.needs_operator  # nobody left who may take it: now the operators do


def test_nobody_off_duty_is_offered(customer, merchant, onsite_service, tomorrow_local):
    hire(merchant, onsite_service, "Resting", duty=Duty.RESTING)
    near = hire(merchant, onsite_service, "On", north_km=5)
    open_order(customer, onsite_service, dt.datetime.combine(tomorrow_local, dt.time(9), SH))
    assert [o.provider_id for o in services.run_dispatch_round()] == [near.pk]


@pytest.mark.parametrize(
    ("policy", "winner"),
    [
        (DispatchPolicy.TRAVEL, "near"),
        (DispatchPolicy.BALANCED, "near"),
        (DispatchPolicy.QUALITY, "far"),
    ],
)
def test_each_merchant_policy_decides_its_own_orders(
    policy, winner, customer, merchant, onsite_service, tomorrow_local
):
    """Near: 1 km, 3.5 stars; far: 4 km (about 9 more minutes), 5 stars. One and a half stars
    are worth 3 minutes when balanced and 15 when quality comes first."""
    merchant.dispatch_policy = policy
    merchant.save()
    people = {
        "near": hire(merchant, onsite_service, "Near", north_km=1, rating=3.5),
        "far": hire(merchant, onsite_service, "Far", north_km=-4, rating=5.0),
    }
    open_order(customer, onsite_service, dt.datetime.combine(tomorrow_local, dt.time(9), SH))
    (offer,) = services.run_dispatch_round()
    assert offer.provider_id == people[winner].pk


@pytest.mark.parametrize(("policy", "winner"), [("travel", "near"), ("balanced", "far")])
def test_a_record_of_broken_commitments_weighs_against_a_provider(
    policy, winner, settings, customer, merchant, onsite_service, tomorrow_local
):
    """Near (1 km) gave back two accepted orders and let five offers expire (three forgiven):
    four breaches, 12 minutes when balanced — more than the ~2 minutes Far (2 km) is farther.
    A merchant that weighs travel alone still sends Near. Old breaches are forgotten."""
    settings.YUYUE_MISSED_OFFERS_ALLOWED = 3
    merchant.dispatch_policy = policy
    merchant.save()
    people = {
        "near": hire(merchant, onsite_service, "Near", north_km=1),
        "far": hire(merchant, onsite_service, "Far", north_km=-2),
    }
    near = people["near"]
    old = open_order(customer, onsite_service, dt.datetime.combine(tomorrow_local, dt.time(8), SH))
    Booking.objects.filter(pk=old.pk).update(status=BookingStatus.CANCELLED)
    for _ in range(2):
        Breach.objects.create(provider=near, booking=old, kind="provider_cancelled")
    for _ in range(5):
        Offer.objects.create(
            booking=old,
            provider=near,
            round_no=1,
            status=OfferStatus.EXPIRED,
            expires_at=timezone.now(),
        )
    assert record.recent_breaches(Provider.objects.filter(pk=near.pk)) == {near.pk: 4}
    open_order(customer, onsite_service, dt.datetime.combine(tomorrow_local, dt.time(9), SH))
    (offer,) = services.run_dispatch_round()
    assert offer.provider_id == people[winner].pk

    # a record older than YUYUE_RECORD_DAYS no longer counts
    long_ago = timezone.now() - dt.timedelta(days=settings.YUYUE_RECORD_DAYS + 1)
    Breach.objects.filter(provider=near).update(at=long_ago)
    Offer.objects.filter(provider=near).update(sent_at=long_ago)
    assert record.recent_breaches(Provider.objects.filter(pk=near.pk)) == {}


def test_an_order_taken_during_the_round_gets_no_offer(
    customer, merchant, onsite_service, tomorrow_local, monkeypatch
):
    hire(merchant, onsite_service, "A")
    order = open_order(
        customer, onsite_service, dt.datetime.combine(tomorrow_local, dt.time(9), SH)
    )
    real = services._round_problem

    def grabbed_meanwhile(orders, now):
        plan = real(orders, now)
        Booking.objects.filter(pk=order.pk).update(status=BookingStatus.CANCELLED)
        return plan

    monkeypatch.setattr(services, "_round_problem", grabbed_meanwhile)
    assert services.run_dispatch_round() == []
    assert not Offer.objects.filter(status=OfferStatus.PENDING).exists()
