"""Offers reach a provider's open page at once: each provider listens on a group of their own
(`ws/provider/offers/`, the session's or a token's provider); a round's new offers are pushed
there by a job after the round commits (so a round of thousands of offers does not wait on the
channel layer), each also left as a notice; an offer that is taken, turned down or expired is
pushed as gone."""

from __future__ import annotations

from yuyue.notifications.live import push
from yuyue.notifications.sending import notify_many

from .models import Offer


def group_name(provider_id: int) -> str:
    return f"provider.{provider_id}.offers"


def _send(provider_id: int, payload: dict) -> None:
    push(group_name(provider_id), {"type": "offer.event", "payload": payload})


def card(offer: Offer) -> dict:
    booking = offer.booking
    return {
        "event": "offer",
        "offer_id": offer.pk,
        "expires_at": offer.expires_at.isoformat(),
        "service": booking.service.name,
        "starts_at": booking.starts_at.isoformat(),
        "price_fen": booking.price_fen,
        "travel_minutes": offer.travel_minutes,
    }


def push_offers(offer_ids: list[int]) -> int:
    """Tell each provider of their new offers (still pending), and leave each as a notice."""
    offers = list(
        Offer.objects.select_related("booking__service", "provider")
        .filter(pk__in=offer_ids, status="pending")
        .order_by("pk")
    )
    notify_many(
        [
            (o.provider.user_id, "offer.new", {"offer": o.pk, "booking": o.booking_id})
            for o in offers
        ]
    )
    for offer in offers:
        _send(offer.provider_id, card(offer))
    return len(offers)


def push_gone(provider_id: int, offer_id: int, status: str) -> None:
    _send(provider_id, {"event": "gone", "offer_id": offer_id, "status": status})
