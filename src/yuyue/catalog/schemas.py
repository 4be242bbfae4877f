"""What the catalog API's routers share: merchants, halls and services as they are shown."""

from __future__ import annotations

from ninja import Schema

from yuyue.core.errors import DomainError

from .models import Merchant, MerchantStatus, Service


class HallOut(Schema):
    id: int
    name: str
    address: str
    lat: float | None
    lng: float | None
    active: bool


class MerchantOut(Schema):
    id: int
    name: str
    slug: str
    timezone: str
    address: str
    lat: float | None
    lng: float | None
    status: str


class MerchantDetail(MerchantOut):
    halls: list[HallOut]


class FormFieldOut(Schema):
    key: str
    label: str
    type: str
    required: bool
    choices: list
    min_value: float | None
    max_value: float | None
    max_length: int


class ServiceOut(Schema):
    id: int
    merchant_id: int
    category_id: int | None
    name: str
    description: str
    kind: str
    duration_minutes: int
    base_price_fen: int
    active: bool
    per_user_limit: int
    max_places_per_booking: int
    deadline_rule: str
    deadline_minutes: int
    cancel_policy: str
    buffer_minutes: int
    step_minutes: int


class ServiceDetail(ServiceOut):
    form_fields: list[FormFieldOut]


class CategoryOut(Schema):
    id: int
    name: str
    slug: str
    parent_id: int | None


def merchant_or_404(merchant_id: int, *, public: bool = True) -> Merchant:
    m = Merchant.objects.filter(pk=merchant_id).first()
    if m is None or (public and m.status != MerchantStatus.ACTIVE):
        raise DomainError("not_found")
    return m


def service_or_404(service_id: int, merchant_id: int | None = None) -> Service:
    qs = Service.objects.select_related("merchant").filter(pk=service_id)
    if merchant_id is not None:
        qs = qs.filter(merchant_id=merchant_id)
    s = qs.first()
    if s is None:
        raise DomainError("not_found")
    return s


def service_detail(s: Service) -> dict:
    data = ServiceOut.from_orm(s).dict()
    data["form_fields"] = list(s.form_fields.all())
    return data
