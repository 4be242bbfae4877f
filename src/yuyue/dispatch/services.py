"""Finding a provider for orders that name none: dispatch rounds, offers, grabs, manual assignment.

A round collects the open dispatch orders, the providers who may take each (verified, active,
with the skill, covering the address, free at that time with the travel buffer, under their cap
of open orders, no pending offer, not already passed on this order), matches them optimally
(`matching.match_round`) and offers each order to its provider for YUYUE_OFFER_TIMEOUT_SECONDS.
Accepting, grabbing and assigning all go through `_take`: the provider's time is reserved and the
order moves by `apply_step("accept")` from awaiting_provider with no provider — one conditional
UPDATE, so exactly one of any number of racing takers wins.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.conf import settings
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from yuyue.accounts.models import MerchantStaff, Provider, StaffRole
from yuyue.core.audit import audit
from yuyue.core.controls import race_control
from yuyue.core.errors import DomainError
from yuyue.orders.models import Booking, BookingStatus, Channel
from yuyue.orders.placing import reserve_provider_time
from yuyue.orders.states import OPERATOR, PROVIDER, STAFF, SYSTEM, apply_step
from yuyue.scheduling.availability import haversine_km, provider_works
from yuyue.scheduling.models import ProviderReservation

from .matching import Candidate, OrderPoint, Problem, Weights, match_round
from .models import Breach, Offer, OfferStatus
from .travel import get_estimator

ACTIVE = (
    BookingStatus.ACCEPTED,
    BookingStatus.DEPARTED,
    BookingStatus.ARRIVED,
    BookingStatus.IN_SERVICE,
)


def _blocked_until(booking: Booking) -> dt.datetime:
    return booking.ends_at + dt.timedelta(minutes=booking.service.buffer_minutes)


def can_take(provider: Provider, booking: Booking, *, open_counts: dict | None = None) -> str:
    """'' if the provider may take the order, else the reason (an error code)."""
    if not (provider.active and provider.verified):
        return "provider_unqualified"
    if not provider.services.filter(pk=booking.service_id).exists():
        return "provider_unqualified"
    if (
        provider.lat is None
        or booking.lat is None
        or haversine_km(provider.lat, provider.lng, booking.lat, booking.lng)
        > provider.service_radius_km
    ):
        return "outside_service_area"
    if open_counts is None:
        open_now = Booking.objects.filter(provider=provider, status__in=ACTIVE).count()
    else:
        open_now = open_counts.get(provider.pk, 0)
    if open_now >= provider.max_open_orders:
        return "provider_at_capacity"
    if not provider_works(provider, booking.starts_at, booking.ends_at):
        return "provider_unavailable"
    if ProviderReservation.objects.filter(
        provider=provider,
        active=True,
        starts_at__lt=_blocked_until(booking),
        blocked_until__gt=booking.starts_at,
    ).exists():
        return "provider_busy"
    return ""


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
        .select_related("service")
    )


def _round_problem(orders: list[Booking], now: dt.datetime) -> Problem:
    """The round's matching problem: the open orders, the providers free of pending offers who
    offer their services, and for each order the providers who may take it."""
    service_ids = {o.service_id for o in orders}
    providers = list(
        Provider.objects.filter(active=True, verified=True, services__in=service_ids)
        .exclude(offers__status=OfferStatus.PENDING)
        .distinct()
        .prefetch_related("services")
    )
    open_counts = dict(
        Booking.objects.filter(provider__in=providers, status__in=ACTIVE)
        .values_list("provider")
        .annotate(n=Count("id"))
    )
    done_today = dict(
        Booking.objects.filter(
            provider__in=providers, status=BookingStatus.COMPLETED, starts_at__date=now.date()
        )
        .values_list("provider")
        .annotate(n=Count("id"))
    )
    passed = set(
        Offer.objects.filter(booking__in=orders)
        .exclude(status=OfferStatus.PENDING)
        .values_list("booking_id", "provider_id")
    )
    eligible = []
    for order in orders:
        ok = [
            j
            for j, p in enumerate(providers)
            if (order.pk, p.pk) not in passed and not can_take(p, order, open_counts=open_counts)
        ]
        eligible.append(np.array(ok, dtype=int))
    return Problem(
        [OrderPoint(o.pk, o.lat, o.lng) for o in orders],
        [
            Candidate(p.pk, p.lat, p.lng, float(p.rating), done_today.get(p.pk, 0))
            for p in providers
        ],
        eligible,
    )


def run_dispatch_round(*, now: dt.datetime | None = None) -> list[Offer]:
    """One round: match every open order to the best free provider and send offers."""
    now = now or timezone.now()
    orders = list(open_orders()[:2000])
    if not orders:
        return []
    assignments = {
        a.order_id: a
        for a in match_round(
            _round_problem(orders, now),
            estimator=get_estimator(settings.YUYUE_TRAVEL_ESTIMATOR),
            weights=Weights(),
        )
    }
    expires = now + dt.timedelta(seconds=settings.YUYUE_OFFER_TIMEOUT_SECONDS)
    offers = []
    with transaction.atomic():
        for order in orders:
            rounds = order.dispatch_rounds + 1
            a = assignments.get(order.pk)
            give_up = a is None and rounds >= settings.YUYUE_DISPATCH_MAX_ROUNDS
            Booking.objects.filter(pk=order.pk).update(
                dispatch_rounds=rounds, needs_operator=give_up
            )
            if a is None:
                continue
            offers.append(
                Offer.objects.create(
                    booking=order,
                    provider_id=a.candidate_id,
                    round_no=rounds,
                    expires_at=expires,
                    travel_minutes=a.travel_minutes,
                    cost=a.cost,
                )
            )
        audit(None, "dispatch.round", None, orders=len(orders), offers=len(offers))

        def enqueue():
            from .tasks import expire_offer_job

            for offer in offers:
                expire_offer_job.using(run_after=offer.expires_at).enqueue(offer.pk)

        transaction.on_commit(enqueue)
    return offers


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
    """The timeout: a pending offer past its time expires; the order goes to the next round."""
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
    out = []
    for order in open_orders().filter(service__in=provider.services.all())[:500]:
        if not can_take(provider, order):
            out.append((order, haversine_km(provider.lat, provider.lng, order.lat, order.lng)))
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


# --- operators and dispatchers ---------------------------------------------------------------


def _dispatcher_role(actor, booking: Booking) -> str:
    if getattr(actor, "is_operator", False):
        return OPERATOR
    from yuyue.accounts.auth import require_staff

    require_staff(actor, booking.merchant_id, (StaffRole.OWNER, StaffRole.MANAGER))
    return STAFF


def _order_for_dispatcher(actor, booking_id: int) -> Booking | None:
    """The order, if the actor may dispatch it. Someone who dispatches for no merchant is refused
    before anything is looked up; a dispatcher finds only their merchants' orders (another's is
    not found, as a missing one is: ids tell no one what exists)."""
    orders = Booking.objects.select_related("service").filter(pk=booking_id)
    if not getattr(actor, "is_operator", False):
        mine = MerchantStaff.objects.filter(
            user_id=getattr(actor, "pk", None), role__in=(StaffRole.OWNER, StaffRole.MANAGER)
        ).values("merchant_id")
        if not mine.exists():
            raise DomainError("forbidden")
        orders = orders.filter(merchant_id__in=mine)
    return orders.first()


def assign_order(*, actor, booking_id: int, provider_id: int, reason: str = "") -> Booking:
    """An operator or the merchant's dispatcher gives an open order to a provider by hand."""
    booking = _order_for_dispatcher(actor, booking_id)
    provider = Provider.objects.filter(pk=provider_id).first()
    if booking is None or provider is None:
        raise DomainError("not_found")
    role = _dispatcher_role(actor, booking)
    why = can_take(provider, booking)
    if why:
        raise DomainError(why)
    try:
        with transaction.atomic():
            Offer.objects.filter(booking=booking, status=OfferStatus.PENDING).update(
                status=OfferStatus.WITHDRAWN, answered_at=timezone.now()
            )
            return _take(booking, provider, actor=actor, role=role)
    except DomainError as exc:
        if exc.code == "illegal_transition":
            raise DomainError("already_taken") from exc
        raise


def reassign_order(
    *, actor, booking_id: int, provider_id: int, from_provider_id: int, reason: str = ""
) -> Booking:
    """Move an accepted order to another provider. The caller names the provider they saw, so
    of two operators reassigning at once exactly one wins; the other gets already_taken."""
    booking = _order_for_dispatcher(actor, booking_id)
    provider = Provider.objects.filter(pk=provider_id).first()
    if booking is None or provider is None:
        raise DomainError("not_found")
    role = _dispatcher_role(actor, booking)
    if provider.pk == booking.provider_id:
        raise DomainError("already_taken")
    why = can_take(provider, booking)
    if why:
        raise DomainError(why)
    old_reservation = booking.reservation_id
    try:
        with transaction.atomic():
            ProviderReservation.objects.filter(pk=old_reservation).update(active=False)
            return _take(
                booking,
                provider,
                actor=actor,
                role=role,
                step="reassign",
                expected_provider_id=from_provider_id,
            )
    except DomainError as exc:
        if exc.code == "illegal_transition":
            raise DomainError("already_taken") from exc
        raise


def provider_release_order(*, actor, booking_id: int, reason: str) -> Booking:
    """A provider gives an accepted order back: it returns to dispatch and a breach is noted."""
    provider = getattr(actor, "provider", None) if hasattr(actor, "provider") else None
    booking = Booking.objects.filter(pk=booking_id).first()
    if booking is None or provider is None or booking.provider_id != provider.pk:
        raise DomainError("not_found")
    if not reason or not reason.strip():
        raise DomainError("reason_required")
    with transaction.atomic():
        ProviderReservation.objects.filter(pk=booking.reservation_id).update(active=False)
        booking = apply_step(
            booking,
            "release",
            actor=actor,
            role=PROVIDER,
            note=reason,
            provider=None,
            reservation=None,
            dispatch_rounds=0,
            extra_filter={"provider_id": provider.pk},
        )
        Breach.objects.create(
            provider=provider, booking=booking, kind="provider_cancelled", note=reason[:300]
        )
    return booking


__all__ = [
    "SYSTEM",
    "accept_offer",
    "assign_order",
    "expire_offer",
    "grab_feed",
    "grab_order",
    "provider_release_order",
    "reassign_order",
    "reject_offer",
    "run_dispatch_round",
]
