"""Choosing a provider: the verified, active providers a customer may pick, filtered and sorted
as a customer chooses, and one provider's profile with a day's free starts. The JSON API
(`providers_api`) and the customer's pages both read them here."""

from __future__ import annotations

import datetime as dt

from django.db.models import BigIntegerField, F, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from yuyue.accounts.models import Provider
from yuyue.catalog.models import Service, ServiceKind
from yuyue.core.crypto import mask_id_number
from yuyue.core.errors import DomainError

from . import availability

SORTS = ("rating", "distance", "price", "experience")


def age(birth_year: int | None) -> int | None:
    return None if birth_year is None else timezone.now().year - birth_year


CARD_FIELDS = (
    "pk",
    "display_name",
    "gender",
    "birth_year",
    "experience_years",
    "rating",
    "reviews_count",
    "price_fen",
    "rate_per_minute_fen",
    "merchant_id",
    "lat",
    "lng",
    "service_radius_km",
)


def card(p, distance: float | None, service: Service | None, skills: list[int]) -> dict:
    """What a customer compares providers by (`p`: a Provider or its CARD_FIELDS as a dict);
    the price is the provider's own or the service's (a consultant's: the rate per minute)."""
    get = p.get if isinstance(p, dict) else lambda f: getattr(p, f)
    own = get("price_fen")
    price = own if own is not None else (service.base_price_fen if service else None)
    rate = get("rate_per_minute_fen")
    if service is not None and service.kind == ServiceKind.REMOTE:
        rate = price = rate if rate is not None else service.base_price_fen
    return {
        "id": get("pk"),
        "name": get("display_name"),
        "gender": get("gender"),
        "age": age(get("birth_year")),
        "experience_years": get("experience_years"),
        "rating": float(get("rating")),
        "reviews_count": get("reviews_count"),
        "price_fen": price,
        "rate_per_minute_fen": rate,
        "distance_km": None if distance is None else round(distance, 2),
        "merchant_id": get("merchant_id"),
        "skills": skills,
    }


def _skills(provider_ids: list[int]) -> dict[int, list[int]]:
    """The services each provider does, in one statement."""
    out: dict[int, list[int]] = {pk: [] for pk in provider_ids}
    rows = Provider.services.through.objects.filter(provider_id__in=provider_ids).order_by(
        "service_id"
    )
    for provider_id, service_id in rows.values_list("provider_id", "service_id"):
        out[provider_id].append(service_id)
    return out


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
    point), sorted by rating, distance, price or experience.

    Three statements whatever the number of providers: the service; the candidates' card fields,
    filtered (near a point, only those whose area covers it: `availability.covering_point`) and
    ordered in SQL, a few times the page's rows; and the skills of the ones returned. The exact
    distance and order are worked out on those rows."""
    if sort not in SORTS:
        raise DomainError("invalid_input", f"sort: one of {', '.join(SORTS)}")
    qs = Provider.objects.filter(active=True, verified=True)
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
    qs = _who(qs, gender, age_min, age_max, experience_min, rating_min)
    if (lat is None) != (lng is None):
        raise DomainError("invalid_input", "Give both lat and lng, or neither.")
    if lat is not None:
        qs = availability.covering_point(qs, lat, lng)
    # the price a card shows: the provider's own (a consultant's rate), else the service's
    own = "rate_per_minute_fen" if service and service.kind == ServiceKind.REMOTE else "price_fen"
    base = service.base_price_fen if service is not None else None
    qs = qs.alias(shown_price=Coalesce(own, Value(base), output_field=BigIntegerField()))
    if price_max_fen is not None:
        qs = qs.filter(shown_price__lte=price_max_fen)
    # the order in SQL too, so that only a few times the page's rows are read, not every
    # provider of a busy city; the exact distance and order follow on those rows
    order = {
        "rating": ("-rating", "-reviews_count", "pk"),
        "price": (F("shown_price").asc(nulls_last=True), "-rating", "pk"),
        "experience": ("-experience_years", "-rating", "pk"),
        "distance": ("flat_km2", "-rating", "pk") if lat is not None else ("-rating", "pk"),
    }[sort]
    rows = []
    for p in qs.order_by(*order).values(*CARD_FIELDS)[: max(limit * 3, limit + 20)]:
        distance = None
        if lat is not None:
            if p["lat"] is None:
                continue
            distance = availability.haversine_km(lat, lng, p["lat"], p["lng"])
            if distance > p["service_radius_km"]:
                continue
        rows.append(card(p, distance, service, []))
    keys = {
        "distance": lambda c: (c["distance_km"] is None, c["distance_km"] or 0, -c["rating"]),
        "rating": lambda c: (-c["rating"], -c["reviews_count"], c["id"]),
        "price": lambda c: (c["price_fen"] is None, c["price_fen"] or 0, -c["rating"]),
        "experience": lambda c: (-c["experience_years"], -c["rating"]),
    }
    rows.sort(key=keys[sort])
    rows = rows[:limit]
    skills = _skills([r["id"] for r in rows])
    for r in rows:
        r["skills"] = skills[r["id"]]
    return rows


def _who(qs, gender, age_min, age_max, experience_min, rating_min):
    """The filters on the person: gender, age (from the birth year), experience, rating."""
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
    return qs


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
    data = card(p, None, service, [s.pk for s in p.services.all()])
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
