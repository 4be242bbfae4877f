"""Throttling: how often one account or one client address may try something (signing in,
asking for or checking a one-time code), counted in Django's cache by django-ratelimit.

The counters live in the `default` cache: local memory in a single process (`make run`), Redis
when `REDIS_URL` is set, so that every web process shares them. A fixed window per key (with
django-ratelimit's per-key jitter); every try counts, taken with the cache's atomic increment
before the thing is tried, so a storm of simultaneous tries cannot slip past the limit.

Rates are `settings.YUYUE_THROTTLE_RATES` ("10/15m": ten per fifteen minutes), by scope and by
what is counted: `sign_in.account`, `sign_in.client`, ... A refusal is the problem
`too_many_requests` (429) with `Retry-After`; the first refusal of a window is audited.
"""

from __future__ import annotations

import hashlib
import ipaddress

from django.conf import settings
from django_ratelimit.core import get_usage

from .audit import audit
from .errors import DomainError


def client_address(request) -> str:
    """The client's address, as the platform's front sees it: REMOTE_ADDR, or the header a
    trusted reverse proxy sets (settings.YUYUE_CLIENT_ADDRESS_HEADER, e.g. X-Real-IP). IPv6
    addresses count by their /64 network, which one subscriber usually holds."""
    header = settings.YUYUE_CLIENT_ADDRESS_HEADER
    raw = (request.headers.get(header, "") if header else "") or request.META.get("REMOTE_ADDR")
    raw = (raw or "").split(",")[0].strip()
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw[:64] or "unknown"
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/64", strict=False).network_address)
    return str(address)


def _rate(scope: str, part: str) -> str | None:
    return settings.YUYUE_THROTTLE_RATES.get(f"{scope}.{part}")


def take(scope: str, **keys: str | None) -> None:
    """Count one try of `scope` against each given key (`account=`, `client=`); refuse with
    `too_many_requests` when any is over its rate. Keys that are None or empty are not counted."""
    for part, value in keys.items():
        rate = _rate(scope, part)
        if not value or not rate:
            continue
        group = f"yuyue.{scope}.{part}"
        usage = get_usage(
            None, group=group, key=lambda _g, _r, v=value: v, rate=rate, increment=True
        )
        if usage is None or not usage["should_limit"]:
            continue
        retry_after = max(int(usage["time_left"]), 1)
        if usage["count"] == usage["limit"] + 1:  # the first refusal of this window
            digest = hashlib.sha256(f"{group}:{value}".encode()).hexdigest()[:16]
            audit(None, "throttle.lockout", scope=scope, by=part, key=digest, seconds=retry_after)
        raise DomainError("too_many_requests", seconds=retry_after, retry_after=retry_after)
