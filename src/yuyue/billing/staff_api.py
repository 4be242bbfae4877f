"""Billing API for a merchant's owners and managers: their own membership levels."""

from __future__ import annotations

from ninja import Router, Status

from yuyue.accounts.auth import bearer

from . import loyalty
from .models import MembershipLevel
from .schemas import LevelIn, LevelOut, LevelPatch

router = Router(tags=["merchant staff"])

# A path is served by one router (ninja answers 405 for a method of the same path registered in
# another), so the merchant's ladder, which anyone may read, is listed here beside its writes.


@router.get("/merchants/{merchant_id}/membership-levels", response=list[LevelOut], auth=None)
def merchant_levels(request, merchant_id: int):
    """A merchant's own levels (spend at that merchant counts; its orders get the discount)."""
    return list(MembershipLevel.objects.filter(merchant_id=merchant_id))


@router.post("/merchants/{merchant_id}/membership-levels", response={201: LevelOut}, auth=bearer)
def create_merchant_level(request, merchant_id: int, body: LevelIn):
    """Owners and managers add a level to their merchant's ladder."""
    level = loyalty.create_level(actor=request.auth, merchant_id=merchant_id, **body.dict())
    return Status(201, level)


@router.patch(
    "/merchants/{merchant_id}/membership-levels/{level_id}", response=LevelOut, auth=bearer
)
def update_merchant_level(request, merchant_id: int, level_id: int, body: LevelPatch):
    return loyalty.update_level(
        actor=request.auth, merchant_id=merchant_id, level_id=level_id, **body.dict()
    )


@router.delete(
    "/merchants/{merchant_id}/membership-levels/{level_id}", response={204: None}, auth=bearer
)
def delete_merchant_level(request, merchant_id: int, level_id: int):
    loyalty.delete_level(actor=request.auth, merchant_id=merchant_id, level_id=level_id)
    return Status(204, None)
