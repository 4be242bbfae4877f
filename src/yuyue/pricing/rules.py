"""A service's price rules and cancel/refund rules as the merchant sets them: checked whole
(never stored as whatever JSON came), and previewed as the quotes they give at a few telling
times (a plain weekday, in a peak window, a weekend day, a public holiday) before they are saved.

Price rules: peak windows (local times, a percentage added), a weekend and a holiday percentage
(China's schedule with its 调休), a price per m² and per extra person (the at-home options), and
travel (free kilometres, then a price per km from the merchant's address). Refund rules: free
until so many hours before the start, then a percentage kept; a travel fee kept once the provider
has departed; the share kept of a no-show."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from yuyue.accounts.auth import MANAGERS, require_staff
from yuyue.catalog.models import Service
from yuyue.core.audit import audit
from yuyue.core.errors import DomainError
from yuyue.core.timeutil import local_dt, zone

from .holidays import day_kind
from .prices import price

MAX_PERCENT = 300  # a surcharge of at most three times the price
PRICING_INTS = {  # name: (lowest, highest)
    "weekend_percent": (0, MAX_PERCENT),
    "holiday_percent": (0, MAX_PERCENT),
    "per_m2_fen": (0, 1_000_000),
    "per_person_fen": (0, 10_000_000),
    "per_km_fen": (0, 1_000_000),
}
REFUND_INTS = {
    "free_hours": (0, 24 * 30),
    "fee_percent": (0, 100),
    "travel_fee_fen": (0, 10_000_000),
    "no_show_percent": (0, 100),
}


def whole(value: Any, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise DomainError("invalid_rules", field=name, low=low, high=high)
    return value


def _clock(value: Any, name: str) -> dt.time:
    try:
        t = dt.time.fromisoformat(value)
    except (TypeError, ValueError) as exc:
        raise DomainError("invalid_rules", field=name, low="00:00", high="23:59") from exc
    return t.replace(second=0, microsecond=0)


def clean_pricing(raw: Any) -> dict:
    """The price rules in their one stored shape; a wrong one is refused with `invalid_rules`
    (naming the field and its bounds) or `invalid_hours` (a peak window ending before it
    starts)."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise DomainError("invalid_rules", field="pricing", low="", high="")
    out: dict = {}
    peaks = raw.get("peak") or []
    if not isinstance(peaks, list) or len(peaks) > 6:
        raise DomainError("invalid_rules", field="peak", low=0, high=6)
    cleaned = []
    for i, p in enumerate(peaks):
        if not isinstance(p, dict):
            raise DomainError("invalid_rules", field=f"peak[{i}]", low="", high="")
        start, end = (
            _clock(p.get("start"), f"peak[{i}].start"),
            _clock(p.get("end"), f"peak[{i}].end"),
        )
        if end <= start:
            raise DomainError("invalid_hours")
        percent = whole(p.get("percent"), f"peak[{i}].percent", 1, MAX_PERCENT)
        cleaned.append({"start": f"{start:%H:%M}", "end": f"{end:%H:%M}", "percent": percent})
    if cleaned:
        out["peak"] = sorted(cleaned, key=lambda p: p["start"])
    for name, (low, high) in PRICING_INTS.items():
        if raw.get(name) not in (None, 0):
            out[name] = whole(raw[name], name, low, high)
    if raw.get("free_km") not in (None, 0):
        km = raw["free_km"]
        if isinstance(km, bool) or not isinstance(km, int | float) or not 0 <= km <= 100:
            raise DomainError("invalid_rules", field="free_km", low=0, high=100)
        out["free_km"] = km
    return out


def clean_refund_rules(raw: Any) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise DomainError("invalid_rules", field="refund_rules", low="", high="")
    return {
        name: whole(raw[name], name, low, high)
        for name, (low, high) in REFUND_INTS.items()
        if raw.get(name) is not None
    }


def set_service_rules(
    *, actor, service: Service, pricing: dict | None, refund_rules: dict | None
) -> Service:
    """Save a service's price and refund rules (each checked whole; None keeps what is)."""
    require_staff(actor, service.merchant_id, MANAGERS)
    changed = []
    if pricing is not None:
        service.pricing = clean_pricing(pricing)
        changed.append("pricing")
    if refund_rules is not None:
        service.refund_rules = clean_refund_rules(refund_rules)
        changed.append("refund_rules")
    with transaction.atomic():
        Service.objects.filter(pk=service.pk).update(
            pricing=service.pricing, refund_rules=service.refund_rules
        )
        audit(actor, "service.rules", service, fields=changed)
    return service


def sample_times(service: Service, today: dt.date | None = None) -> list[tuple[str, dt.datetime]]:
    """Telling times to preview a quote at, from tomorrow on: a plain weekday at 10:00, the
    start of the first peak window on that day, a weekend day at 10:00, and the next public
    holiday at 10:00 (within half a year)."""
    tz = zone(service.merchant.timezone)
    today = today or timezone.now().astimezone(tz).date()
    found: dict[str, dt.date] = {}
    for i in range(1, 183):
        day = today + dt.timedelta(days=i)
        kind, _known = day_kind(day)
        found.setdefault(kind, day)
        if len(found) == 3:
            break
    out = []
    if "workday" in found:
        out.append(("workday", local_dt(found["workday"], dt.time(10), tz)))
        peaks = (service.pricing or {}).get("peak") or []
        if peaks:
            start = dt.time.fromisoformat(peaks[0]["start"])
            out.append(("peak", local_dt(found["workday"], start, tz)))
    if "weekend" in found:
        out.append(("weekend", local_dt(found["weekend"], dt.time(10), tz)))
    if "holiday" in found:
        out.append(("holiday", local_dt(found["holiday"], dt.time(10), tz)))
    return out


def preview(service: Service, pricing: dict, *, today: dt.date | None = None) -> list[dict]:
    """The quotes `pricing` (checked, not saved) would give for one unit at the telling times:
    [{"kind", "at", "lines", "total_fen"}]."""
    trial = Service(
        pk=service.pk,
        merchant=service.merchant,
        base_price_fen=service.base_price_fen,
        pricing=clean_pricing(pricing),
    )
    out = []
    for kind, at in sample_times(trial, today):
        total, lines = price(trial, starts_at=at)
        out.append({"kind": kind, "at": at, "lines": lines, "total_fen": total})
    return out
