"""What the dispatch API's routers share: answers and bodies used by several sides."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Schema


class ReasonIn(Schema):
    reason: str = Field("", max_length=200)


class TrackingOut(Schema):
    booking_id: int
    status: str
    lat: float | None
    lng: float | None
    at: dt.datetime | None
    eta_minutes: float | None


class ApplicationOut(Schema):
    id: int
    provider_id: int
    provider_name: str
    price_fen: int
    message: str
    status: str


class NeedOut(Schema):
    id: int
    category_id: int
    title: str
    description: str
    starts_at: dt.datetime
    duration_minutes: int
    address: str
    budget_fen: int
    status: str
    booking_id: int | None
    applications: list[ApplicationOut]


def need_out(need, viewer) -> dict:
    from .models import Application

    apps = Application.objects.filter(need=need).select_related("provider")
    owner = need.customer_id == viewer.pk or getattr(viewer, "is_operator", False)
    if not owner:
        apps = apps.filter(provider__user=viewer)
    return {
        "id": need.pk,
        "category_id": need.category_id,
        "title": need.title,
        "description": need.description,
        "starts_at": need.starts_at,
        "duration_minutes": need.duration_minutes,
        "address": need.address if owner else need.address.split(" ")[0],
        "budget_fen": need.budget_fen,
        "status": need.status,
        "booking_id": need.booking_id,
        "applications": [
            {
                "id": a.pk,
                "provider_id": a.provider_id,
                "provider_name": a.provider.display_name,
                "price_fen": a.price_fen,
                "message": a.message,
                "status": a.status,
            }
            for a in apps
        ],
    }
