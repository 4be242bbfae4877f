"""Catalog API for a merchant's managers: halls, services and their booking forms."""

from __future__ import annotations

from typing import Literal

from ninja import Field, Router, Schema, Status

from yuyue.accounts.auth import bearer
from yuyue.core.errors import DomainError
from yuyue.core.schemas import PatchSchema

from . import services
from .models import Category, FormField, Hall
from .schemas import (
    FormFieldOut,
    HallOut,
    ServiceDetail,
    merchant_or_404,
    service_detail,
    service_or_404,
)

router = Router(tags=["merchant staff"])


class HallIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    address: str = Field("", max_length=300)
    lat: float | None = Field(None, ge=-90, le=90, strict=True)
    lng: float | None = Field(None, ge=-180, le=180, strict=True)


class HallPatch(PatchSchema):
    NULLABLE = frozenset({"lat", "lng"})

    name: str | None = Field(None, min_length=1, max_length=200)
    address: str | None = Field(None, max_length=300)
    lat: float | None = Field(None, ge=-90, le=90, strict=True)
    lng: float | None = Field(None, ge=-180, le=180, strict=True)
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


class ServicePatch(PatchSchema):
    NULLABLE = frozenset({"category_id"})

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
    choices: list[str] = Field([], max_length=100)
    # finite bounds only: a NaN bound would let every answer through and could not be served
    min_value: float | None = Field(None, ge=-1e15, le=1e15, strict=True)
    max_value: float | None = Field(None, ge=-1e15, le=1e15, strict=True)
    max_length: int = Field(100, ge=1, le=2000)


def _category_ok(category_id: int | None) -> None:
    if category_id is not None and not Category.objects.filter(pk=category_id).exists():
        raise DomainError("not_found")


@router.get("/merchants/{merchant_id}/halls", response=list[HallOut], auth=bearer)
def staff_list_halls(request, merchant_id: int):
    from yuyue.accounts.auth import require_staff

    require_staff(request.auth, merchant_or_404(merchant_id, public=False).pk)
    return Hall.objects.filter(merchant_id=merchant_id).order_by("name")


@router.post("/merchants/{merchant_id}/halls", response={201: HallOut}, auth=bearer)
def create_hall(request, merchant_id: int, body: HallIn):
    merchant = merchant_or_404(merchant_id, public=False)
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
    merchant = merchant_or_404(merchant_id, public=False)
    _category_ok(body.category_id)
    data = body.dict()
    service = services.create_service(
        actor=request.auth, merchant=merchant, name=data.pop("name"), kind=data.pop("kind"), **data
    )
    return Status(201, service_detail(service))


@router.patch("/merchants/{merchant_id}/services/{service_id}", response=ServiceDetail, auth=bearer)
def update_service(request, merchant_id: int, service_id: int, body: ServicePatch):
    service = service_or_404(service_id, merchant_id)
    changes = body.dict(exclude_unset=True)
    _category_ok(changes.get("category_id"))
    return service_detail(services.update_service(actor=request.auth, service=service, **changes))


@router.put(
    "/merchants/{merchant_id}/services/{service_id}/form", response=list[FormFieldOut], auth=bearer
)
def set_form(request, merchant_id: int, service_id: int, body: list[FormFieldIn]):
    service = service_or_404(service_id, merchant_id)
    services.set_form_fields(actor=request.auth, service=service, fields=[f.dict() for f in body])
    return FormField.objects.filter(service=service)
