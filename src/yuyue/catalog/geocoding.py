"""An address as a point on the map: AMap's (高德) geocoding web service, reached over its own HTTP
protocol at AMAP_API_BASE with the key AMAP_KEY (without a key, finding addresses is "not set up"
and people share their browser's position or type the point).

AMap answers in GCJ-02, the offset datum every Chinese map uses; yuyue keeps WGS-84 (what a
phone's GPS and the browser give), so the point is converted back (the GCJ-02 offset is a public
formula; its inverse is found by iterating it, to well under a metre). Outside mainland China the
two are the same.
"""

from __future__ import annotations

import math

import httpx
from django.conf import settings

from yuyue.core.errors import DomainError

_A = 6378245.0  # the Krasovsky ellipsoid's semi-major axis, as GCJ-02 uses it
_EE = 0.00669342162296594323


def _in_china(lat: float, lng: float) -> bool:
    return 73.66 < lng < 135.05 and 3.86 < lat < 53.55


def _offset(lat: float, lng: float) -> tuple[float, float]:
    """GCJ-02 minus WGS-84 at a WGS-84 point, in degrees."""
    x, y = lng - 105.0, lat - 35.0
    pi = math.pi
    wave = (20.0 * math.sin(6.0 * x * pi) + 20.0 * math.sin(2.0 * x * pi)) * 2.0 / 3.0
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    d_lat += wave + (20.0 * math.sin(y * pi) + 40.0 * math.sin(y / 3.0 * pi)) * 2.0 / 3.0
    d_lat += (160.0 * math.sin(y / 12.0 * pi) + 320.0 * math.sin(y * pi / 30.0)) * 2.0 / 3.0
    d_lng = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    d_lng += wave + (20.0 * math.sin(x * pi) + 40.0 * math.sin(x / 3.0 * pi)) * 2.0 / 3.0
    d_lng += (150.0 * math.sin(x / 12.0 * pi) + 300.0 * math.sin(x / 30.0 * pi)) * 2.0 / 3.0
    rad = lat / 180.0 * pi
    magic = 1 - _EE * math.sin(rad) ** 2
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * math.sqrt(magic)) * pi)
    d_lng = (d_lng * 180.0) / (_A / math.sqrt(magic) * math.cos(rad) * pi)
    return d_lat, d_lng


def wgs_to_gcj(lat: float, lng: float) -> tuple[float, float]:
    if not _in_china(lat, lng):
        return lat, lng
    d_lat, d_lng = _offset(lat, lng)
    return lat + d_lat, lng + d_lng


def gcj_to_wgs(lat: float, lng: float) -> tuple[float, float]:
    """The WGS-84 point whose GCJ-02 position is (lat, lng), by fixed-point iteration."""
    if not _in_china(lat, lng):
        return lat, lng
    w_lat, w_lng = lat, lng
    for _ in range(6):
        g_lat, g_lng = wgs_to_gcj(w_lat, w_lng)
        w_lat, w_lng = w_lat - (g_lat - lat), w_lng - (g_lng - lng)
    return w_lat, w_lng


def geocode(address: str, *, city: str = "") -> dict:
    """{"lat", "lng" (WGS-84), "formatted"} of the best match for the address; refused with
    `address_not_found`, `geocoding_not_configured` or `geocoding_unavailable`."""
    address = (address or "").strip()
    if not address:
        raise DomainError("address_not_found")
    if not settings.AMAP_KEY:
        raise DomainError("geocoding_not_configured")
    params = {"key": settings.AMAP_KEY, "address": address[:200], "output": "JSON"}
    if city:
        params["city"] = city
    try:
        response = httpx.get(f"{settings.AMAP_API_BASE}/v3/geocode/geo", params=params, timeout=5)
        answer = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise DomainError("geocoding_unavailable") from exc
    if str(answer.get("status")) != "1":
        raise DomainError("geocoding_unavailable")  # a wrong key, over the quota, …
    found = [g for g in answer.get("geocodes") or [] if g.get("location")]
    if not found:
        raise DomainError("address_not_found")
    try:
        lng, lat = (float(v) for v in found[0]["location"].split(","))
    except ValueError as exc:
        raise DomainError("geocoding_unavailable") from exc
    lat, lng = gcj_to_wgs(lat, lng)
    return {
        "lat": round(lat, 6),
        "lng": round(lng, 6),
        "formatted": found[0].get("formatted_address") or address,
    }
