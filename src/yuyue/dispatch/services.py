"""Finding a provider for orders that name none: dispatch rounds, offers, grabs (people assigning
by hand: `assigning`).

A round collects the open dispatch orders, the providers who may take each (verified, active,
on duty, with the skill, covering the address, free at that time with the travel buffer, under
their cap of open orders, no pending offer, not already passed on this order: `candidates`, in a
fixed number of statements), matches them optimally under each merchant's dispatch policy
(`matching.match_round`, `matching.POLICIES`) and offers each order to its provider for
YUYUE_OFFER_TIMEOUT_SECONDS.
Accepting, grabbing and assigning all go through `_take`: the provider's time is reserved and the
order moves by `apply_step("accept")` from awaiting_provider with no provider — one conditional
UPDATE, so exactly one of any number of racing takers wins.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from scipy import sparse

from yuyue.accounts.models import Provider
from yuyue.core import sql
from yuyue.core.audit import audit
from yuyue.core.controls import race_control
from yuyue.core.errors import DomainError
from yuyue.core.metrics import count, counter, histogram
from yuyue.orders.models import Booking, BookingStatus, Channel
from yuyue.orders.placing import reserve_provider_time
from yuyue.orders.states import PROVIDER, apply_step
from yuyue.scheduling.availability import haversine_km

from . import candidates
from .matching import POLICIES, Candidate, OrderPoint, Problem, match_round
from .models import Offer, OfferStatus
from .travel import get_estimator

ROUNDS = counter("yuyue_dispatch_rounds_total", "Dispatch rounds run", ["outcome"])
ROUND_SECONDS = histogram("yuyue_dispatch_round_seconds", "How long a dispatch round takes")
OFFERS = counter("yuyue_dispatch_offers_total", "Offers sent by dispatch rounds")
OFFERS_EXPIRED = counter("yuyue_dispatch_offers_expired_total", "Offers left to expire")


def _blocked_until(booking: Booking) -> dt.datetime:
    return booking.ends_at + dt.timedelta(minutes=booking.service.buffer_minutes)


def can_take(provider: Provider, booking: Booking) -> str:
    """'' if the provider may take the order, else the reason (an error code): the rules of a
    round (`candidates.reasons`) on one pair."""
    pool = candidates.load_pool([booking.service_id], provider_ids=[provider.pk])
    if not len(pool):
        return "provider_unqualified"
    one = np.zeros(1, np.int64)
    code = candidates.reasons(candidates.Orders.of([booking]), pool, one, one)[0]
    return candidates.REASONS[code]


def _take(
    booking: Booking,
    provider: Provider,
    *,
    actor,
    role: str,
    step: str = "accept",
    expected_provider_id: int | None = None,
) -> Booking:
    """Reserve the provider's time and give them the order, atomically. Inside a transaction."""
    reservation = reserve_provider_time(
        provider_id=provider.pk,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        blocked_until=_blocked_until(booking),
    )
    extra = (
        {"provider__isnull": True} if step == "accept" else {"provider_id": expected_provider_id}
    )
    return apply_step(
        booking,
        step,
        actor=actor,
        role=role,
        provider=provider,
        reservation=reservation,
        needs_operator=False,
        extra_filter=extra,
    )


# --- rounds ----------------------------------------------------------------------------------


def open_orders():
    return (
        Booking.objects.filter(
            channel=Channel.DISPATCH,
            status=BookingStatus.AWAITING_PROVIDER,
            provider__isnull=True,
            needs_operator=False,
            starts_at__gt=timezone.now(),
        )
        .exclude(offers__status=OfferStatus.PENDING)
        .select_related("service", "merchant")
        .order_by("starts_at", "id")
    )


@dataclass
class RoundPlan:
    """A round's matching problem, and which orders someone could take."""

    problem: Problem
    # per order: some provider may take it, even if now holding another pending offer (which
    # may expire or be turned down) or given another order in this round
    held: np.ndarray


def _round_problem(orders: list[Booking], now: dt.datetime) -> RoundPlan:
    """The open orders, the providers free of pending offers who may take each (every rule of
    `can_take`, checked for all pairs at once: `candidates`), each order with its merchant's
    dispatch policy."""
    batch = candidates.Orders.of(orders)
    pool = candidates.load_pool({o.service_id for o in orders}, today=now.date(), for_round=True)
    oi, pj = candidates.near_pairs(batch, pool)
    ok = candidates.reasons(batch, pool, oi, pj, holding=candidates.OUTSIDE) == candidates.OK
    oi, pj = oi[ok], pj[ok]
    ok = ~candidates.passed_on(batch, pool, oi, pj)
    oi, pj = oi[ok], pj[ok]
    held = np.zeros(len(orders), bool)
    held[oi] = True
    free = ~pool.pending[pj]
    oi, pj = oi[free], pj[free]
    # the providers in some pair become the candidates, in pool order (no sort of the pairs)
    used = np.flatnonzero(np.bincount(pj, minlength=len(pool)))
    column = np.zeros(len(pool), np.int64)
    column[used] = np.arange(used.size)
    eligible = sparse.csr_array(
        (np.ones(oi.size, bool), (oi, column[pj])), shape=(len(orders), used.size)
    )
    return RoundPlan(
        Problem(
            [
                OrderPoint(o.pk, o.lat, o.lng, POLICIES.get(o.merchant.dispatch_policy))
                for o in orders
            ],
            [
                Candidate(
                    int(pool.ids[j]),
                    float(pool.lat[j]),
                    float(pool.lng[j]),
                    float(pool.rating[j]),
                    int(pool.done_today[j]),
                    breaches=int(pool.breaches[j]),
                )
                for j in used
            ],
            eligible,
        ),
        held,
    )


def expire_due_offers(now: dt.datetime | None = None) -> int:
    """Every pending offer past its time expires (one statement); their orders and providers
    are free for the next round."""
    now = now or timezone.now()
    expired = Offer.objects.filter(status=OfferStatus.PENDING, expires_at__lte=now).update(
        status=OfferStatus.EXPIRED, answered_at=now
    )
    count(OFFERS_EXPIRED, expired)
    return expired


def run_dispatch_round(*, now: dt.datetime | None = None) -> list[Offer]:
    """One round (`_round`), counted and timed for /metrics."""
    with ROUND_SECONDS.time():
        offers = _round(now=now)
    ROUNDS.labels(outcome="offers" if offers else "none").inc()
    count(OFFERS, len(offers))
    return offers


def _round(*, now: dt.datetime | None = None) -> list[Offer]:
    """One round: match every open order to the best free provider and send offers.

    A fixed number of statements whatever the number of (order, provider) pairs: the reads of
    `_round_problem`, then one update of the orders' round counts (only orders still open, so
    one taken meanwhile gets no offer), one for those given up, the offers inserted together,
    an audit row and one job that expires the round's offers when their time is up. An order
    goes to the operators after YUYUE_DISPATCH_MAX_ROUNDS rounds, on a round in which nobody at
    all may take it: not while a provider who may is only holding another pending offer (it may
    expire or be turned down) or was given another order in this round."""
    now = now or timezone.now()
    expire_due_offers(now)
    orders = list(open_orders()[: settings.YUYUE_DISPATCH_ROUND_LIMIT])
    if not orders:
        return []
    plan = _round_problem(orders, now)
    assignments = {
        a.order_id: a
        for a in match_round(
            plan.problem,
            estimator=get_estimator(settings.YUYUE_TRAVEL_ESTIMATOR),
            weights=POLICIES["balanced"],
        )
    }
    expires = now + dt.timedelta(seconds=settings.YUYUE_OFFER_TIMEOUT_SECONDS)
    with transaction.atomic():
        still_open = _count_round({o.pk for o in orders})
        give_up = [
            o.pk
            for i, o in enumerate(orders)
            if o.pk in still_open
            and o.pk not in assignments
            and not plan.held[i]
            and o.dispatch_rounds + 1 >= settings.YUYUE_DISPATCH_MAX_ROUNDS
        ]
        if give_up:
            Booking.objects.filter(pk__in=sql.id_list(give_up)).update(needs_operator=True)
        offers = [
            Offer(
                booking=o,
                provider_id=a.candidate_id,
                round_no=o.dispatch_rounds + 1,
                sent_at=now,
                expires_at=expires,
                travel_minutes=a.travel_minutes,
                cost=a.cost,
            )
            for o in orders
            if o.pk in still_open and (a := assignments.get(o.pk)) is not None
        ]
        _insert_offers(offers)
        audit(
            None,
            "dispatch.round",
            None,
            orders=len(orders),
            offers=len(offers),
            to_operators=len(give_up),
        )
        if offers:
            ids = [o.pk for o in offers]

            def enqueue():
                from .tasks import expire_offers_job, push_offers_job

                expire_offers_job.using(run_after=expires).enqueue()
                push_offers_job.enqueue(ids)

            transaction.on_commit(enqueue)
    return offers


def _insert_offers(offers: list[Offer]) -> None:
    """Insert a round's offers in one statement whatever their number: their varying columns
    as one JSON parameter, the round's times as two (a plain multi-row INSERT would pass
    SQLite's 32,766 parameters at 3,600 offers). Sets each offer's id."""
    if not offers:
        return
    col = {f: sql.qn(Offer._meta.get_field(f).column) for f in _OFFER_COLUMNS}
    if sql.default_db().vendor == "postgresql":
        row = "(r->>{})::{}"
        source = "jsonb_array_elements(%s::jsonb) r"
    else:
        row = "json_extract(value, '$[{}]')"
        source = "json_each(%s)"
    kinds = ("bigint", "bigint", "integer", "float8", "float8")
    statement = (
        f"INSERT INTO {sql.table(Offer)} ({', '.join(col.values())}) SELECT "
        + ", ".join(row.format(i, kinds[i]) for i in range(5))
        + f", %s, %s, %s, '' FROM {source} RETURNING {sql.qn('id')}, {col['booking']}"
    )
    first = offers[0]
    rows = json.dumps(
        [[o.booking_id, o.provider_id, o.round_no, o.travel_minutes, o.cost] for o in offers]
    )
    with sql.cursor() as cur:
        cur.execute(
            statement,
            [
                OfferStatus.PENDING,
                sql.param(Offer, "sent_at", first.sent_at),
                sql.param(Offer, "expires_at", first.expires_at),
                rows,
            ],
        )
        ids = dict((booking, pk) for pk, booking in cur.fetchall())
    for o in offers:
        o.pk = ids[o.booking_id]
        o.status = OfferStatus.PENDING
        o._state.adding = False


_OFFER_COLUMNS = (
    "booking",
    "provider",
    "round_no",
    "travel_minutes",
    "cost",
    "status",
    "sent_at",
    "expires_at",
    "reason",
)


def _count_round(ids: set[int]) -> set[int]:
    """Count this round on the orders still waiting for a provider; those are returned."""
    table, col = sql.table(Booking), sql.column
    statement = (
        f"UPDATE {table} SET {sql.qn('dispatch_rounds')} = {sql.qn('dispatch_rounds')} + 1 "
        f"WHERE {sql.one_of(col(Booking, 'id'))} AND {col(Booking, 'status')} = %s "
        f"AND {col(Booking, 'provider')} IS NULL RETURNING {col(Booking, 'id')}"
    )
    with sql.cursor() as cur:
        cur.execute(statement, [sql.integers(sorted(ids)), BookingStatus.AWAITING_PROVIDER])
        return {row[0] for row in cur.fetchall()}


# --- offers ----------------------------------------------------------------------------------


def _own_offer(actor, offer_id: int) -> Offer:
    provider = getattr(actor, "provider", None) if hasattr(actor, "provider") else None
    offer = Offer.objects.select_related("booking__service", "provider").filter(pk=offer_id).first()
    if offer is None or provider is None or offer.provider_id != provider.pk:
        raise DomainError("not_found")
    return offer


def accept_offer(*, actor, offer_id: int) -> Booking:
    offer = _own_offer(actor, offer_id)
    now = timezone.now()
    with transaction.atomic():
        if not Offer.objects.filter(
            pk=offer.pk, status=OfferStatus.PENDING, expires_at__gt=now
        ).update(status=OfferStatus.ACCEPTED, answered_at=now):
            offer.refresh_from_db()
            raise DomainError(
                "offer_expired"
                if offer.status == OfferStatus.EXPIRED or offer.expires_at <= now
                else "offer_not_pending"
            )
        return _take(offer.booking, offer.provider, actor=actor, role=PROVIDER)


def reject_offer(*, actor, offer_id: int, reason: str = "") -> Offer:
    offer = _own_offer(actor, offer_id)
    with transaction.atomic():
        if not Offer.objects.filter(pk=offer.pk, status=OfferStatus.PENDING).update(
            status=OfferStatus.REJECTED, answered_at=timezone.now(), reason=reason[:200]
        ):
            raise DomainError("offer_not_pending")
        audit(actor, "offer.reject", offer, reason=reason[:200])
    offer.refresh_from_db()
    return offer


def expire_offer(*, offer_id: int) -> bool:
    """The timeout of one offer: pending past its time, it expires."""
    with transaction.atomic():
        return bool(
            Offer.objects.filter(
                pk=offer_id, status=OfferStatus.PENDING, expires_at__lte=timezone.now()
            ).update(status=OfferStatus.EXPIRED, answered_at=timezone.now())
        )


# --- grab orders 抢单 --------------------------------------------------------------------------


def grab_feed(*, actor, limit: int = 50) -> list[tuple[Booking, float]]:
    """Open orders this provider could take now, nearest first."""
    provider = getattr(actor, "provider", None) if hasattr(actor, "provider") else None
    if provider is None:
        raise DomainError("forbidden")
    orders = list(open_orders().filter(service__in=provider.services.all())[:500])
    if not orders:
        return []
    batch = candidates.Orders.of(orders)
    pool = candidates.load_pool({o.service_id for o in orders}, provider_ids=[provider.pk])
    if not len(pool):
        return []
    oi, pj = np.arange(len(orders)), np.zeros(len(orders), np.int64)
    ok = candidates.reasons(batch, pool, oi, pj) == candidates.OK
    out = [
        (orders[i], haversine_km(provider.lat, provider.lng, orders[i].lat, orders[i].lng))
        for i in np.flatnonzero(ok)
    ]
    return sorted(out, key=lambda x: (x[1], x[0].pk))[:limit]


def grab_order(*, actor, booking_id: int) -> Booking:
    """The first qualified provider to grab an open order gets it; the others get already_taken."""
    provider = getattr(actor, "provider", None) if hasattr(actor, "provider") else None
    if provider is None:
        raise DomainError("forbidden")
    booking = (
        Booking.objects.select_related("service")
        .filter(pk=booking_id, channel=Channel.DISPATCH)
        .first()
    )
    if booking is None:
        raise DomainError("not_found")
    if booking.provider_id or booking.status != BookingStatus.AWAITING_PROVIDER:
        raise DomainError("already_taken")
    reason = can_take(provider, booking)
    if reason:
        raise DomainError(reason)
    try:
        with transaction.atomic():
            Offer.objects.filter(booking=booking, status=OfferStatus.PENDING).update(
                status=OfferStatus.WITHDRAWN, answered_at=timezone.now()
            )
            if naive := race_control("grab"):
                return naive(booking=booking, provider=provider, actor=actor)
            return _take(booking, provider, actor=actor, role=PROVIDER)
    except DomainError as exc:
        if exc.code == "illegal_transition":
            raise DomainError("already_taken") from exc
        raise


__all__ = [
    "accept_offer",
    "expire_offer",
    "grab_feed",
    "grab_order",
    "reject_offer",
    "run_dispatch_round",
]
