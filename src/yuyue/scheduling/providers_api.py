"""Choosing a provider: list and filter providers, see a profile and its free times."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Query, Router, Schema

from . import providers

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
    return providers.search_providers(
        service_id=service_id,
        category=category,
        gender=gender,
        age_min=age_min,
        age_max=age_max,
        experience_min=experience_min,
        price_max_fen=price_max_fen,
        rating_min=rating_min,
        lat=lat,
        lng=lng,
        sort=sort,
        limit=limit,
    )


@router.get("/providers/{provider_id}", response=ProviderProfile, auth=None)
def provider_profile(
    request, provider_id: int, service_id: int | None = None, date: dt.date | None = None
):
    """A provider's profile: credentials (numbers masked), rating, and — for a service and a
    date — the free start times of that day."""
    return providers.provider_profile(provider_id=provider_id, service_id=service_id, date=date)
