"""Favourites, recommendations and "book again".

A customer saves providers, services and merchants (one row each, saved or not: saving twice is
one). "Recommended for you" ranks the active services near the customer by what customers who
booked what they booked also booked (co-occurrence over the last `YUYUE_RECOMMEND_DAYS`),
then by the merchant's rating; a customer with no past orders, or a list that comes up short, is
filled with what is popular nearby (most booked in the same days), so a new customer always gets
a list. "Book again" is the services of the customer's finished orders, latest first."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.conf import settings
from django.db.models import Count, Max
from django.utils import timezone

from yuyue.accounts.models import Provider
from yuyue.catalog.models import Merchant, MerchantStatus, Service
from yuyue.core.errors import DomainError
from yuyue.core.geo import haversine_km
from yuyue.orders.models import Booking, BookingStatus

from .models import Favourite, FavouriteKind

TARGETS = {
    FavouriteKind.PROVIDER: lambda pk: Provider.objects.filter(pk=pk, active=True).exists(),
    FavouriteKind.SERVICE: lambda pk: Service.objects.filter(pk=pk, active=True).exists(),
    FavouriteKind.MERCHANT: lambda pk: Merchant.objects.filter(
        pk=pk, status=MerchantStatus.ACTIVE
    ).exists(),
}
DONE = (BookingStatus.COMPLETED, BookingStatus.CHECKED_IN)
BOOKED = (*DONE, BookingStatus.BOOKED, BookingStatus.ACCEPTED)
NEAR_KM = 30.0


def _customer(actor) -> int:
    if getattr(actor, "pk", None) is None:
        raise DomainError("auth_required")
    return actor.pk


def save(*, actor, kind: str, target_id: int) -> Favourite:
    """Save a provider, service or merchant (again: the same row)."""
    user_id = _customer(actor)
    if kind not in TARGETS:
        raise DomainError("invalid_input", "kind is provider, service or merchant.")
    if not TARGETS[kind](target_id):
        raise DomainError("not_found")
    # Django's get_or_create takes the unique row another request made first
    return Favourite.objects.get_or_create(user_id=user_id, kind=kind, target_id=target_id)[0]


def remove(*, actor, kind: str, target_id: int) -> bool:
    """Forget a saved one; whether it was saved."""
    deleted, _ = Favourite.objects.filter(
        user_id=_customer(actor), kind=kind, target_id=target_id
    ).delete()
    return bool(deleted)


def saved_ids(user, kind: str) -> set[int]:
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(
        Favourite.objects.filter(user_id=user.pk, kind=kind).values_list("target_id", flat=True)
    )


def favourites(*, actor) -> dict[str, list]:
    """The customer's saved ones, newest first, as objects (those gone inactive left out)."""
    rows = list(Favourite.objects.filter(user_id=_customer(actor)).order_by("-created_at", "-pk"))
    ids = {k: [r.target_id for r in rows if r.kind == k] for k in FavouriteKind.values}
    found = {
        FavouriteKind.PROVIDER: Provider.objects.filter(
            pk__in=ids[FavouriteKind.PROVIDER], active=True
        ).select_related("merchant"),
        FavouriteKind.SERVICE: Service.objects.filter(
            pk__in=ids[FavouriteKind.SERVICE], active=True
        ).select_related("merchant"),
        FavouriteKind.MERCHANT: Merchant.objects.filter(
            pk__in=ids[FavouriteKind.MERCHANT], status=MerchantStatus.ACTIVE
        ),
    }
    out = {}
    for kind, query in found.items():
        by_id = {o.pk: o for o in query}
        out[kind] = [by_id[i] for i in ids[kind] if i in by_id]
    return out


def book_again(*, actor, limit: int = 6) -> list[Service]:
    """The services of the customer's finished orders, the latest first, each once."""
    rows = (
        Booking.objects.filter(customer_id=_customer(actor), status__in=DONE, service__active=True)
        .values("service_id")
        .annotate(last=Max("starts_at"))
        .order_by("-last")[:limit]
    )
    order = [r["service_id"] for r in rows]
    by_id = Service.objects.select_related("merchant").in_bulk(order)
    return [by_id[i] for i in order if i in by_id]


def recommend(*, actor, lat: float | None = None, lng: float | None = None, limit: int = 6):
    """Services for this customer near (lat, lng) when given: [(service, why)], why being
    "similar" (booked by customers who booked what you booked) or "popular" (most booked
    nearby lately). What the customer booked already is left out."""
    user_id = getattr(actor, "pk", None)
    since = timezone.now() - dt.timedelta(days=settings.YUYUE_RECOMMEND_DAYS)
    recent = Booking.objects.filter(created_at__gte=since, status__in=BOOKED)
    mine = (
        set(recent.filter(customer_id=user_id).values_list("service_id", flat=True))
        if user_id
        else set()
    )
    if user_id:
        mine |= set(
            Booking.objects.filter(customer_id=user_id, status__in=BOOKED).values_list(
                "service_id", flat=True
            )[:200]
        )
    scores: Counter = Counter()
    if mine:
        peers = (
            recent.filter(service_id__in=mine)
            .exclude(customer_id=user_id)
            .values_list("customer_id", flat=True)
            .distinct()[:500]
        )
        for row in (
            recent.filter(customer_id__in=list(peers))
            .exclude(service_id__in=mine)
            .values("service_id")
            .annotate(n=Count("customer_id", distinct=True))
        ):
            scores[row["service_id"]] = row["n"]
    popular = dict(
        recent.exclude(service_id__in=mine)
        .values("service_id")
        .annotate(n=Count("pk"))
        .values_list("service_id", "n")
    )
    candidates = (
        Service.objects.filter(
            pk__in=set(scores) | set(popular),
            active=True,
            merchant__status=MerchantStatus.ACTIVE,
        )
        .exclude(pk__in=mine)
        .select_related("merchant")
    )
    near = [s for s in candidates if _near(s.merchant, lat, lng)]
    rating = {s.pk: float(s.merchant.rating) for s in near}
    similar = sorted(
        (s for s in near if scores[s.pk]), key=lambda s: (-scores[s.pk], -rating[s.pk], s.pk)
    )
    rest = sorted(
        (s for s in near if not scores[s.pk]),
        key=lambda s: (-popular.get(s.pk, 0), -rating[s.pk], s.pk),
    )
    return [(s, "similar") for s in similar][:limit] + [(s, "popular") for s in rest][
        : max(0, limit - len(similar))
    ]


def _near(merchant: Merchant, lat, lng) -> bool:
    if lat is None or lng is None or merchant.lat is None or merchant.lng is None:
        return True
    return haversine_km(lat, lng, merchant.lat, merchant.lng) <= NEAR_KM
