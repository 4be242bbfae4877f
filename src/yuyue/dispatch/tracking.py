"""Live tracking: the provider's app posts positions; the customer sees them and an ETA.

Positions are accepted only from the order's provider, only while it is active, at most one per
YUYUE_LOCATION_MIN_SECONDS; each is pushed on commit to the order's channel group (websocket
`ws/bookings/<id>/track/`) and readable by polling. Once the order is over they are purged by a
job when older than YUYUE_LOCATION_RETENTION_DAYS.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from yuyue.core.errors import DomainError
from yuyue.notifications.live import push
from yuyue.orders.models import Booking, BookingStatus
from yuyue.orders.states import roles_of

from .models import LocationPing
from .travel import get_estimator

TRACKED = (
    BookingStatus.ACCEPTED,
    BookingStatus.DEPARTED,
    BookingStatus.ARRIVED,
    BookingStatus.IN_SERVICE,
)


def group_name(booking_id: int) -> str:
    return f"booking.{booking_id}.track"


def may_watch(user, booking: Booking) -> bool:
    """The order's customer and provider, the merchant's staff, operators."""
    return bool(roles_of(user, booking) & {"customer", "provider", "staff", "operator"})


def eta_minutes(booking: Booking, lat: float, lng: float) -> float | None:
    if booking.lat is None or booking.status not in (
        BookingStatus.ACCEPTED,
        BookingStatus.DEPARTED,
    ):
        return None
    estimator = get_estimator(settings.YUYUE_TRAVEL_ESTIMATOR)
    return round(estimator.minutes(lat, lng, booking.lat, booking.lng), 1)


def snapshot(booking: Booking, ping: LocationPing | None) -> dict:
    return {
        "booking_id": booking.pk,
        "status": booking.status,
        "lat": ping.lat if ping else None,
        "lng": ping.lng if ping else None,
        "at": ping.at.isoformat() if ping else None,
        "eta_minutes": eta_minutes(booking, ping.lat, ping.lng) if ping else None,
    }


def _push(booking_id: int, payload: dict) -> None:
    push(group_name(booking_id), {"type": "track.update", "payload": payload})


def post_location(
    *, actor, booking_id: int, lat: float, lng: float, accuracy_m: float | None = None
) -> dict:
    provider = getattr(actor, "provider", None) if hasattr(actor, "provider") else None
    booking = Booking.objects.filter(pk=booking_id).first()
    if booking is None or provider is None or booking.provider_id != provider.pk:
        raise DomainError("not_found")
    if not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise DomainError("invalid_input", "lat/lng out of range.")
    if booking.status not in TRACKED:
        raise DomainError("illegal_transition", step="location", state=booking.status)
    since = timezone.now() - dt.timedelta(seconds=settings.YUYUE_LOCATION_MIN_SECONDS)
    with transaction.atomic():
        if LocationPing.objects.filter(booking=booking, at__gt=since).exists():
            raise DomainError("location_too_frequent", seconds=settings.YUYUE_LOCATION_MIN_SECONDS)
        ping = LocationPing.objects.create(
            booking=booking, provider=provider, lat=lat, lng=lng, accuracy_m=accuracy_m
        )
        payload = snapshot(booking, ping)
        transaction.on_commit(lambda: _push(booking.pk, payload))
    return payload


def push_order_status(booking: Booking) -> None:
    """Tell the order's watchers its new status (called on commit of a step)."""
    latest = LocationPing.objects.filter(booking=booking).order_by("-at").first()
    _push(booking.pk, snapshot(booking, latest))


def latest(*, actor, booking_id: int) -> dict:
    booking = Booking.objects.filter(pk=booking_id).first()
    if booking is None or not may_watch(actor, booking):
        raise DomainError("not_found")
    ping = LocationPing.objects.filter(booking=booking).order_by("-at").first()
    return snapshot(booking, ping)


def purge_positions() -> int:
    """Delete positions of orders no longer active once older than the retention (kept that
    long for disputes); an active order keeps its trail."""
    cut = timezone.now() - dt.timedelta(days=settings.YUYUE_LOCATION_RETENTION_DAYS)
    return LocationPing.objects.exclude(booking__status__in=TRACKED).filter(at__lt=cut).delete()[0]
