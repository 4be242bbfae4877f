"""Catalog API: customers browse merchants and services; managers set them up; operators approve."""

from __future__ import annotations

from typing import Literal

from django.db.models import Q
from ninja import Field, Router, Schema, Status

from yuyue.accounts.auth import bearer
from yuyue.core.errors import DomainError

from . import services
from .models import Category, FormField, Hall, Merchant, MerchantStatus, Service

router = Router(tags=["catalog"])
ops_router = Router(tags=["operators"])


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


def _merchant(merchant_id: int, *, public: bool = True) -> Merchant:
    m = Merchant.objects.filter(pk=merchant_id).first()
    if m is None or (public and m.status != MerchantStatus.ACTIVE):
        raise DomainError("not_found")
    return m


def _service(service_id: int, merchant_id: int | None = None) -> Service:
    qs = Service.objects.select_related("merchant").filter(pk=service_id)
    if merchant_id is not None:
        qs = qs.filter(merchant_id=merchant_id)
    s = qs.first()
    if s is None:
        raise DomainError("not_found")
    return s


def _detail(s: Service) -> dict:
    data = ServiceOut.from_orm(s).dict()
    data["form_fields"] = list(s.form_fields.all())
    return data


# --- customers browse ------------------------------------------------------------------------


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
    m = _merchant(merchant_id)
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
    s = _service(service_id)
    if not s.active or s.merchant.status != MerchantStatus.ACTIVE:
        raise DomainError("not_found")
    return _detail(s)


# --- merchant managers set up -----------------------------------------------------------------


class HallIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    address: str = Field("", max_length=300)
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)


class HallPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    address: str | None = Field(None, max_length=300)
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    active: bool | None = None


class ServiceIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    kind: Literal["hall_slot", "on_site", "remote"]
    description: str = ""
    category_id: int | None = None
    duration_minutes: int = Field(60, ge=1, le=44640)
    base_price_fen: int = Field(0, ge=0, le=10_000_000_000)
    active: bool = True
    per_user_limit: int = Field(1, ge=1, le=1000)
    max_places_per_booking: int = Field(10, ge=1, le=1000)
    deadline_rule: Literal["slot_end", "before_start"] = "before_start"
    deadline_minutes: int = Field(0, ge=0, le=525600)
    cancel_policy: Literal["never", "any_time", "before_start"] = "before_start"
    buffer_minutes: int = Field(0, ge=0, le=1440)
    step_minutes: int = Field(30, ge=1, le=1440)


class ServicePatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    description: str | None = None
    category_id: int | None = None
    duration_minutes: int | None = Field(None, ge=1, le=44640)
    base_price_fen: int | None = Field(None, ge=0, le=10_000_000_000)
    active: bool | None = None
    per_user_limit: int | None = Field(None, ge=1, le=1000)
    max_places_per_booking: int | None = Field(None, ge=1, le=1000)
    deadline_rule: Literal["slot_end", "before_start"] | None = None
    deadline_minutes: int | None = Field(None, ge=0, le=525600)
    cancel_policy: Literal["never", "any_time", "before_start"] | None = None
    buffer_minutes: int | None = Field(None, ge=0, le=1440)
    step_minutes: int | None = Field(None, ge=1, le=1440)


class FormFieldIn(Schema):
    key: str = Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")
    label: str = Field(min_length=1, max_length=100)
    type: Literal["text", "number", "phone", "id_number", "choice", "date"]
    required: bool = True
    choices: list[str] = []
    min_value: float | None = None
    max_value: float | None = None
    max_length: int = Field(100, ge=1, le=2000)


def _category_ok(category_id: int | None) -> None:
    if category_id is not None and not Category.objects.filter(pk=category_id).exists():
        raise DomainError("not_found")


@router.get("/merchants/{merchant_id}/halls", response=list[HallOut], auth=bearer)
def staff_list_halls(request, merchant_id: int):
    from yuyue.accounts.auth import require_staff

    require_staff(request.auth, _merchant(merchant_id, public=False).pk)
    return Hall.objects.filter(merchant_id=merchant_id).order_by("name")


@router.post("/merchants/{merchant_id}/halls", response={201: HallOut}, auth=bearer)
def create_hall(request, merchant_id: int, body: HallIn):
    merchant = _merchant(merchant_id, public=False)
    hall = services.create_hall(actor=request.auth, merchant=merchant, **body.dict())
    return Status(201, hall)


@router.patch("/merchants/{merchant_id}/halls/{hall_id}", response=HallOut, auth=bearer)
def update_hall(request, merchant_id: int, hall_id: int, body: HallPatch):
    hall = Hall.objects.filter(pk=hall_id, merchant_id=merchant_id).first()
    if hall is None:
        raise DomainError("not_found")
    return services.update_hall(actor=request.auth, hall=hall, **body.dict(exclude_unset=True))


@router.post("/merchants/{merchant_id}/services", response={201: ServiceDetail}, auth=bearer)
def create_service(request, merchant_id: int, body: ServiceIn):
    merchant = _merchant(merchant_id, public=False)
    _category_ok(body.category_id)
    data = body.dict()
    service = services.create_service(
        actor=request.auth, merchant=merchant, name=data.pop("name"), kind=data.pop("kind"), **data
    )
    return Status(201, _detail(service))


@router.patch("/merchants/{merchant_id}/services/{service_id}", response=ServiceDetail, auth=bearer)
def update_service(request, merchant_id: int, service_id: int, body: ServicePatch):
    service = _service(service_id, merchant_id)
    changes = body.dict(exclude_unset=True)
    _category_ok(changes.get("category_id"))
    return _detail(services.update_service(actor=request.auth, service=service, **changes))


@router.put(
    "/merchants/{merchant_id}/services/{service_id}/form", response=list[FormFieldOut], auth=bearer
)
def set_form(request, merchant_id: int, service_id: int, body: list[FormFieldIn]):
    service = _service(service_id, merchant_id)
    services.set_form_fields(actor=request.auth, service=service, fields=[f.dict() for f in body])
    return FormField.objects.filter(service=service)


# --- operators -------------------------------------------------------------------------------


class MerchantIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,79}$")
    timezone: str = "Asia/Shanghai"
    address: str = Field("", max_length=300)
    lat: float | None = Field(None, ge=-90, le=90)
    lng: float | None = Field(None, ge=-180, le=180)
    phone: str = Field("", max_length=32)


class MerchantStatusIn(Schema):
    status: Literal["pending", "active", "suspended"]


@ops_router.get("/merchants", response=list[MerchantOut], auth=bearer)
def ops_list_merchants(request, status: Literal["pending", "active", "suspended"] | None = None):
    from yuyue.accounts.auth import require_operator

    require_operator(request.auth)
    qs = Merchant.objects.order_by("name")
    return qs.filter(status=status) if status else qs


@ops_router.post("/merchants", response={201: MerchantOut}, auth=bearer)
def ops_create_merchant(request, body: MerchantIn):
    data = body.dict()
    return Status(
        201,
        services.create_merchant(
            actor=request.auth, name=data.pop("name"), slug=data.pop("slug"), **data
        ),
    )


@ops_router.post("/merchants/{merchant_id}/status", response=MerchantOut, auth=bearer)
def ops_set_merchant_status(request, merchant_id: int, body: MerchantStatusIn):
    merchant = _merchant(merchant_id, public=False)
    return services.set_merchant_status(actor=request.auth, merchant=merchant, status=body.status)
