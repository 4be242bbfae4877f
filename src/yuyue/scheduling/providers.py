"""Choosing a provider: the verified, active providers a customer may pick, filtered and sorted
as a customer chooses, and one provider's profile with a day's free starts. The JSON API
(`providers_api`) and the customer's pages both read them here."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from yuyue.accounts.models import Provider
from yuyue.catalog.models import Service, ServiceKind
from yuyue.core.crypto import mask_id_number
from yuyue.core.errors import DomainError

from . import availability

SORTS = ("rating", "distance", "price", "experience")
SCAN = 2000  # providers read before the filters that are not in SQL (price, distance)


def age(birth_year: int | None) -> int | None:
    return None if birth_year is None else timezone.now().year - birth_year


def card(p: Provider, distance: float | None, service: Service | None) -> dict:
    """What a customer compares providers by; the price is the provider's own or the
    service's (a consultant's: the rate per minute)."""
    price = (
        p.price_fen if p.price_fen is not None else (service.base_price_fen if service else None)
    )
    rate = p.rate_per_minute_fen
    if service is not None and service.kind == ServiceKind.REMOTE:
        rate = price = p.rate_per_minute_fen if rate is not None else service.base_price_fen
    return {
        "id": p.pk,
        "name": p.display_name,
        "gender": p.gender,
        "age": age(p.birth_year),
        "experience_years": p.experience_years,
        "rating": float(p.rating),
        "reviews_count": p.reviews_count,
        "price_fen": price,
        "rate_per_minute_fen": rate,
        "distance_km": None if distance is None else round(distance, 2),
        "merchant_id": p.merchant_id,
        "skills": [s.pk for s in p.services.all()],
    }


def search_providers(
    *,
    service_id: int | None = None,
    category: str = "",
    gender: str | None = None,
    age_min: int | None = None,
    age_max: int | None = None,
    experience_min: int | None = None,
    price_max_fen: int | None = None,
    rating_min: float | None = None,
    lat: float | None = None,
    lng: float | None = None,
    sort: str = "rating",
    limit: int = 50,
) -> list[dict]:
    """Verified, active providers, filtered by gender, age, experience, skills (a service or a
    category), price, rating and distance (with lat/lng: only those whose area covers the
    point), sorted by rating, distance, price or experience."""
    if sort not in SORTS:
        raise DomainError("invalid_input", f"sort: one of {', '.join(SORTS)}")
    qs = Provider.objects.filter(active=True, verified=True).prefetch_related("services")
    service = None
    if service_id is not None:
        service = Service.objects.filter(pk=service_id, active=True).first()
        if service is None:
            raise DomainError("not_found")
        qs = qs.filter(services=service)
    if category:
        qs = qs.filter(
            Q(services__category__slug=category) | Q(services__category__parent__slug=category)
        ).distinct()
    if gender:
        qs = qs.filter(gender=gender)
    year = timezone.now().year
    if age_min is not None:
        qs = qs.filter(birth_year__lte=year - age_min)
    if age_max is not None:
        qs = qs.filter(birth_year__gte=year - age_max)
    if experience_min is not None:
        qs = qs.filter(experience_years__gte=experience_min)
    if rating_min is not None:
        qs = qs.filter(rating__gte=rating_min)
    if (lat is None) != (lng is None):
        raise DomainError("invalid_input", "Give both lat and lng, or neither.")
    rows = []
    for p in qs[:SCAN]:
        distance = None
        if lat is not None and p.lat is not None:
            distance = availability.haversine_km(lat, lng, p.lat, p.lng)
            if distance > p.service_radius_km:
                continue
        elif lat is not None:
            continue
        one = card(p, distance, service)
        if price_max_fen is not None and (
            one["price_fen"] is None or one["price_fen"] > price_max_fen
        ):
            continue
        rows.append(one)
    keys = {
        "distance": lambda c: (c["distance_km"] is None, c["distance_km"] or 0, -c["rating"]),
        "rating": lambda c: (-c["rating"], -c["reviews_count"], c["id"]),
        "price": lambda c: (c["price_fen"] is None, c["price_fen"] or 0, -c["rating"]),
        "experience": lambda c: (-c["experience_years"], -c["rating"]),
    }
    rows.sort(key=keys[sort])
    return rows[:limit]


def provider_profile(
    *, provider_id: int, service_id: int | None = None, date: dt.date | None = None
) -> dict:
    """A provider's profile: credentials (numbers masked), rating, and — for a service and a
    date — the free start times of that day."""
    p = (
        Provider.objects.select_related("merchant")
        .prefetch_related("services", "credentials")
        .filter(pk=provider_id, active=True, verified=True)
        .first()
    )
    if p is None:
        raise DomainError("not_found")
    service = None
    if service_id is not None:
        service = p.services.filter(pk=service_id).first()
        if service is None:
            raise DomainError("provider_unqualified")
    data = card(p, None, service)
    data["bio"] = p.bio
    data["credentials"] = [
        {
            "kind": c.kind,
            "issued_by": c.issued_by,
            "valid_until": c.valid_until,
            "number": mask_id_number(c.number),
        }
        for c in p.credentials.all()
        if c.verified
    ]
    starts: list[dt.datetime] = []
    if service is not None and date is not None:
        pd = availability.provider_days({p.pk: p.zone_name}, date)[p.pk]
        minutes = availability.free_starts(
            pd,
            duration=service.duration_minutes,
            buffer=service.buffer_minutes,
            step=service.step_minutes,
            not_before_minute=availability._now_minute(pd),
        )
        starts = [pd.at(m) for m in minutes]
    data["free_starts"] = starts
    data["provider"] = p
    data["service"] = service
    return data
