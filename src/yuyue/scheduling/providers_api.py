"""Choosing a provider: list and filter providers, see a profile and its free times."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.db.models import Q
from django.utils import timezone
from ninja import Query, Router, Schema

from yuyue.accounts.models import Provider
from yuyue.catalog.models import Service, ServiceKind
from yuyue.core.crypto import mask_id_number
from yuyue.core.errors import DomainError

from . import availability

router = Router(tags=["providers"])


class ProviderCard(Schema):
    id: int
    name: str
    gender: str
    age: int | None
    experience_years: int
    rating: float
    reviews_count: int
    price_fen: int | None
    rate_per_minute_fen: int | None = None  # consultants: timed calls are billed by the minute
    distance_km: float | None
    merchant_id: int | None
    skills: list[int]


class CredentialOut(Schema):
    kind: str
    issued_by: str
    valid_until: dt.date | None
    number: str


class ProviderProfile(ProviderCard):
    bio: str
    credentials: list[CredentialOut]
    free_starts: list[dt.datetime]


def _age(birth_year: int | None) -> int | None:
    return None if birth_year is None else timezone.now().year - birth_year


def _card(p: Provider, distance: float | None, service: Service | None) -> dict:
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
        "age": _age(p.birth_year),
        "experience_years": p.experience_years,
        "rating": float(p.rating),
        "reviews_count": p.reviews_count,
        "price_fen": price,
        "rate_per_minute_fen": rate,
        "distance_km": None if distance is None else round(distance, 2),
        "merchant_id": p.merchant_id,
        "skills": [s.pk for s in p.services.all()],
    }


@router.get("/providers", response=list[ProviderCard], auth=None)
def list_providers(
    request,
    service_id: int | None = None,
    category: str = "",
    gender: Literal["female", "male"] | None = None,
    age_min: int | None = Query(None, ge=16, le=100),
    age_max: int | None = Query(None, ge=16, le=100),
    experience_min: int | None = Query(None, ge=0, le=80),
    price_max_fen: int | None = Query(None, ge=0),
    rating_min: float | None = Query(None, ge=0, le=5),
    lat: float | None = Query(None, ge=-90, le=90),
    lng: float | None = Query(None, ge=-180, le=180),
    sort: Literal["distance", "rating", "price", "experience"] = "rating",
    limit: int = Query(50, ge=1, le=200),
):
    """Verified, active providers, filtered like a customer chooses: gender, age, experience,
    skills, price, rating and distance (with lat/lng: only those whose area covers the point)."""
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
    for p in qs[:2000]:
        distance = None
        if lat is not None and p.lat is not None:
            distance = availability.haversine_km(lat, lng, p.lat, p.lng)
            if distance > p.service_radius_km:
                continue
        elif lat is not None:
            continue
        card = _card(p, distance, service)
        if price_max_fen is not None and (
            card["price_fen"] is None or card["price_fen"] > price_max_fen
        ):
            continue
        rows.append(card)
    keys = {
        "distance": lambda c: (c["distance_km"] is None, c["distance_km"] or 0, -c["rating"]),
        "rating": lambda c: (-c["rating"], -c["reviews_count"], c["id"]),
        "price": lambda c: (c["price_fen"] is None, c["price_fen"] or 0, -c["rating"]),
        "experience": lambda c: (-c["experience_years"], -c["rating"]),
    }
    rows.sort(key=keys[sort])
    return rows[:limit]


@router.get("/providers/{provider_id}", response=ProviderProfile, auth=None)
def provider_profile(
    request, provider_id: int, service_id: int | None = None, date: dt.date | None = None
):
    """A provider's profile: credentials (numbers masked), rating, and — for a service and a
    date — the free start times of that day."""
    p = (
        Provider.objects.prefetch_related("services", "credentials")
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
    data = _card(p, None, service)
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
    return data
