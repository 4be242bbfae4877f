"""Catalog API for operators: merchants and their approval."""

from __future__ import annotations

from typing import Literal

from ninja import Field, Router, Schema, Status

from yuyue.accounts.auth import operator_bearer

from . import services
from .models import Merchant
from .schemas import MerchantOut, merchant_or_404

ops_router = Router(tags=["operators"])


class MerchantIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,79}$")
    timezone: str = "Asia/Shanghai"
    address: str = Field("", max_length=300)
    lat: float | None = Field(None, ge=-90, le=90, strict=True)
    lng: float | None = Field(None, ge=-180, le=180, strict=True)
    phone: str = Field("", max_length=32)


class MerchantStatusIn(Schema):
    status: Literal["pending", "active", "suspended"]


@ops_router.get("/merchants", response=list[MerchantOut], auth=operator_bearer)
def ops_list_merchants(request, status: Literal["pending", "active", "suspended"] | None = None):
    from yuyue.accounts.auth import require_operator

    require_operator(request.auth)
    qs = Merchant.objects.order_by("name")
    return qs.filter(status=status) if status else qs


@ops_router.post("/merchants", response={201: MerchantOut}, auth=operator_bearer)
def ops_create_merchant(request, body: MerchantIn):
    data = body.dict()
    return Status(
        201,
        services.create_merchant(
            actor=request.auth, name=data.pop("name"), slug=data.pop("slug"), **data
        ),
    )


@ops_router.post("/merchants/{merchant_id}/status", response=MerchantOut, auth=operator_bearer)
def ops_set_merchant_status(request, merchant_id: int, body: MerchantStatusIn):
    merchant = merchant_or_404(merchant_id, public=False)
    return services.set_merchant_status(actor=request.auth, merchant=merchant, status=body.status)
