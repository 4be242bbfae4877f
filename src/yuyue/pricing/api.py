"""Pricing API: quotes for customers, price lists for a merchant's managers."""

from __future__ import annotations

import datetime as dt

from ninja import Field, Router, Schema, Status

from yuyue.accounts.auth import MANAGERS, bearer, require_staff
from yuyue.core.schemas import WORDS, Day, Moment, Whole

from .models import PriceList
from .prices import create_price_list as create
from .prices import make_quote

router = Router(tags=["pricing"])


class QuoteIn(Schema):
    service_id: int
    starts_at: Moment
    quantity: Whole = Field(1)
    options: dict = {}
    lat: float | None = Field(None, ge=-90, le=90, strict=True)
    lng: float | None = Field(None, ge=-180, le=180, strict=True)


class QuoteOut(Schema):
    id: int
    total_fen: int
    breakdown: list[dict]
    expires_at: dt.datetime


@router.post("/quotes", response={201: QuoteOut}, auth=None)
def quote(request, body: QuoteIn):
    """A price with its breakdown, valid for a few minutes."""
    user = request.user if request.user.is_authenticated else None
    q = make_quote(actor=user, **body.dict())
    return Status(
        201,
        {
            "id": q.pk,
            "total_fen": q.total_fen,
            "breakdown": q.breakdown,
            "expires_at": q.expires_at,
        },
    )


class PriceItemIn(Schema):
    service_id: int
    unit_price_fen: Whole = Field(...)


class PriceListIn(Schema):
    name: str = Field(..., max_length=100, pattern=WORDS)
    valid_from: Day
    valid_until: Day | None = None
    items: list[PriceItemIn] = Field(..., min_length=1, max_length=500)


class PriceItemOut(Schema):
    service_id: int
    unit_price_fen: int


class PriceListOut(Schema):
    id: int
    name: str
    valid_from: dt.date
    valid_until: dt.date | None
    active: bool
    items: list[PriceItemOut]


def _price_list_out(price_list) -> dict:
    return {
        "id": price_list.pk,
        "name": price_list.name,
        "valid_from": price_list.valid_from,
        "valid_until": price_list.valid_until,
        "active": price_list.active,
        "items": list(price_list.items.values("service_id", "unit_price_fen")),
    }


@router.post("/merchants/{merchant_id}/price-lists", response={201: PriceListOut}, auth=bearer)
def create_price_list(request, merchant_id: int, body: PriceListIn):
    """Prices for a period (owners and managers): while valid, they replace the services' base
    prices in quotes and new orders; the newest valid list wins."""
    price_list = create(
        actor=request.auth,
        merchant_id=merchant_id,
        name=body.name,
        valid_from=body.valid_from,
        valid_until=body.valid_until,
        items=[i.dict() for i in body.items],
    )
    return Status(201, _price_list_out(price_list))


@router.get("/merchants/{merchant_id}/price-lists", response=list[PriceListOut], auth=bearer)
def price_lists(request, merchant_id: int):
    require_staff(request.auth, merchant_id, MANAGERS)
    return [_price_list_out(p) for p in PriceList.objects.filter(merchant_id=merchant_id)]
