"""Operators' endpoints for merchants' people: staff roles and provider profiles."""

from __future__ import annotations

from typing import Literal

from ninja import Field, Router, Schema, Status

from yuyue.accounts import services as accounts
from yuyue.accounts.api import StaffRoleOut
from yuyue.accounts.auth import bearer, operator_bearer

from . import people

ops_router = Router(tags=["operators"])


class StaffIn(Schema):
    merchant_id: int
    role: Literal["owner", "manager", "clerk"]


@ops_router.post("/people/{user_id}/staff-roles", response=StaffRoleOut, auth=bearer)
def grant_role(request, user_id: int, body: StaffIn):
    """Operators grant any role; a merchant's owner grants manager or clerk."""
    staff = people.grant_staff_role(
        actor=request.auth,
        user_id=user_id,
        merchant_id=body.merchant_id,
        role=body.role,
    )
    return {
        "merchant_id": staff.merchant_id,
        "merchant_name": staff.merchant.name,
        "role": staff.role,
    }


@ops_router.delete("/people/{user_id}/staff-roles/{merchant_id}", response={204: None}, auth=bearer)
def revoke_role(request, user_id: int, merchant_id: int):
    accounts.revoke_staff_role(actor=request.auth, user_id=user_id, merchant_id=merchant_id)
    return Status(204, None)


class ProviderIn(Schema):
    display_name: str = Field(min_length=1, max_length=100)
    gender: Literal["female", "male", "undisclosed"] = "undisclosed"
    merchant_id: int | None = None
    service_ids: list[int] = []
    lat: float | None = Field(None, ge=-90, le=90, strict=True)
    lng: float | None = Field(None, ge=-180, le=180, strict=True)
    service_radius_km: float = Field(10, gt=0, le=200, strict=True)
    verified: bool = False


class ProviderOut(Schema):
    id: int
    user_id: int
    display_name: str
    merchant_id: int | None
    verified: bool
    service_ids: list[int]


@ops_router.post("/people/{user_id}/provider", response={201: ProviderOut}, auth=operator_bearer)
def make_provider(request, user_id: int, body: ProviderIn):
    """Give a person a provider profile (after checking their real name and credentials)."""
    provider = people.make_provider(actor=request.auth, user_id=user_id, **body.dict())
    return Status(
        201,
        {
            "id": provider.pk,
            "user_id": provider.user_id,
            "display_name": provider.display_name,
            "merchant_id": provider.merchant_id,
            "verified": provider.verified,
            "service_ids": sorted(s.pk for s in provider.services.all()),
        },
    )
