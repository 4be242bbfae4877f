"""Catalog API for customers (and anyone browsing): categories, merchants, services."""

from __future__ import annotations

from typing import Literal

from django.db.models import Q
from ninja import Router

from yuyue.core.errors import DomainError

from .models import Category, Merchant, MerchantStatus, Service
from .schemas import (
    CategoryOut,
    MerchantDetail,
    MerchantOut,
    ServiceDetail,
    ServiceOut,
    merchant_or_404,
    service_detail,
    service_or_404,
)

router = Router(tags=["catalog"])


@router.get("/categories", response=list[CategoryOut], auth=None)
def list_categories(request):
    return Category.objects.order_by("name")


@router.get("/merchants", response=list[MerchantOut], auth=None)
def list_merchants(request, q: str = ""):
    qs = Merchant.objects.filter(status=MerchantStatus.ACTIVE).order_by("name")
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(address__icontains=q))
    return qs[:200]


@router.get("/merchants/{merchant_id}", response=MerchantDetail, auth=None)
def get_merchant(request, merchant_id: int):
    m = merchant_or_404(merchant_id)
    return {**MerchantOut.from_orm(m).dict(), "halls": list(m.halls.filter(active=True))}


@router.get("/services", response=list[ServiceOut], auth=None)
def list_services(
    request,
    merchant_id: int | None = None,
    category: str = "",
    kind: Literal["hall_slot", "on_site", "remote"] | None = None,
    q: str = "",
):
    qs = Service.objects.filter(active=True, merchant__status=MerchantStatus.ACTIVE)
    if merchant_id is not None:
        qs = qs.filter(merchant_id=merchant_id)
    if category:
        qs = qs.filter(Q(category__slug=category) | Q(category__parent__slug=category))
    if kind:
        qs = qs.filter(kind=kind)
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(description__icontains=q))
    return qs.order_by("merchant_id", "name")[:500]


@router.get("/services/{service_id}", response=ServiceDetail, auth=None)
def get_service(request, service_id: int):
    s = service_or_404(service_id)
    if not s.active or s.merchant.status != MerchantStatus.ACTIVE:
        raise DomainError("not_found")
    return service_detail(s)
