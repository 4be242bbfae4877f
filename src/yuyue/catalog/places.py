"""Where things are for a customer: the areas to choose from when the browser does not tell
(their centres stand for the point), and how far a merchant is from a point (its own place or
the nearest of its halls)."""

from __future__ import annotations

from yuyue.core.geo import haversine_km

from .models import Area, Merchant


def areas() -> list[Area]:
    return list(Area.objects.all())


def area_point(area_id) -> tuple[float, float, Area] | None:
    try:
        area = Area.objects.filter(pk=int(area_id)).first()
    except (TypeError, ValueError):
        return None
    return (area.lat, area.lng, area) if area else None


def merchant_km(merchant: Merchant, lat: float, lng: float) -> float | None:
    """The distance to the merchant's nearest place (itself or an active hall with a point);
    None when it gives no place. Reads the halls prefetched as `merchant.halls.all()`."""
    points = [(merchant.lat, merchant.lng)] if merchant.lat is not None else []
    points += [(h.lat, h.lng) for h in merchant.halls.all() if h.active and h.lat is not None]
    if not points:
        return None
    return min(haversine_km(lat, lng, a, b) for a, b in points)


def nearest_first(merchants: list[Merchant], lat: float, lng: float) -> list[Merchant]:
    """The merchants by distance from the point (each given `.km`), those without a place
    last."""
    for m in merchants:
        m.km = merchant_km(m, lat, lng)
    return sorted(merchants, key=lambda m: (m.km is None, m.km or 0, m.name))
