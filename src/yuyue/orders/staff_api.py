"""Booking API for merchant staff: booking lists with filters, export, check-in, cancel."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import HttpResponse
from ninja import Field, Query, Router, Schema

from yuyue.accounts.auth import ANY_STAFF, bearer, require_staff
from yuyue.catalog.models import Merchant
from yuyue.core.errors import DomainError
from yuyue.core.paging import offset_param

from . import queries, services
from .models import Booking
from .schemas import StaffBookingOut, booking_out, load_booking

router = Router(tags=["merchant staff"])


def _full_view(user, merchant_id: int) -> bool:
    return queries.sees_in_full(user, merchant_id)


def _staff_merchant(request, merchant_id: int) -> Merchant:
    merchant = Merchant.objects.filter(pk=merchant_id).first()
    if merchant is None:
        raise DomainError("not_found")
    require_staff(request.auth, merchant_id, ANY_STAFF)
    return merchant


StatusFilter = Literal["booked", "checked_in", "cancelled", "cancelled_by_staff", "cancelled_any"]


@router.get("/merchants/{merchant_id}/bookings", response=list[StaffBookingOut], auth=bearer)
def merchant_bookings(
    request,
    merchant_id: int,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    service_id: int | None = None,
    hall_id: int | None = None,
    slot_id: int | None = None,
    status: StatusFilter | None = None,
    q: str = Query("", max_length=50),
    offset: int = offset_param(),
    limit: int = Query(100, ge=1, le=500),
):
    merchant = _staff_merchant(request, merchant_id)
    qs = queries.merchant_bookings(
        merchant,
        date_from=date_from,
        date_to=date_to,
        service_id=service_id,
        hall_id=hall_id,
        slot_id=slot_id,
        status=status,
        q=q,
        viewer=request.auth,
    ).prefetch_related("service__form_fields")
    full = _full_view(request.auth, merchant_id)
    return [booking_out(b, full_answers=full, staff=True) for b in qs[offset : offset + limit]]


@router.get(
    "/merchants/{merchant_id}/bookings/export.xlsx",
    auth=bearer,
    response={200: None},
    openapi_extra={
        "responses": {
            200: {
                "description": "An Excel workbook, one row per participant",
                "content": {
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {}
                },
            }
        }
    },
)
def export_bookings(
    request,
    merchant_id: int,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    service_id: int | None = None,
    hall_id: int | None = None,
    slot_id: int | None = None,
    status: StatusFilter | None = None,
):
    """The booking list as .xlsx, form answers as columns, times in the merchant's zone."""
    merchant = _staff_merchant(request, merchant_id)
    from .export import export_bookings_xlsx

    qs = queries.merchant_bookings(
        merchant,
        date_from=date_from,
        date_to=date_to,
        service_id=service_id,
        hall_id=hall_id,
        slot_id=slot_id,
        status=status,
        viewer=request.auth,
    )
    content = export_bookings_xlsx(actor=request.auth, merchant=merchant, bookings=qs)
    response = HttpResponse(
        content, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    name = f"bookings-{merchant.slug}-{date_from or 'all'}.xlsx"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


class CheckInIn(Schema):
    code: str = Field(min_length=1, max_length=40)


@router.post("/merchants/{merchant_id}/checkins", response=StaffBookingOut, auth=bearer)
def check_in(request, merchant_id: int, body: CheckInIn):
    """Redeem a check-in code 核销 (typed, or read from the booking's QR code)."""
    booking = services.check_in(actor=request.auth, merchant_id=merchant_id, code=body.code)
    return booking_out(
        load_booking(booking.pk), full_answers=_full_view(request.auth, merchant_id), staff=True
    )


class StaffCancelIn(Schema):
    reason: str = Field(min_length=1, max_length=300)


@router.post(
    "/merchants/{merchant_id}/bookings/{booking_id}/cancel", response=StaffBookingOut, auth=bearer
)
def staff_cancel(request, merchant_id: int, booking_id: int, body: StaffCancelIn):
    booking = Booking.objects.filter(pk=booking_id, merchant_id=merchant_id).first()
    if booking is None:
        raise DomainError("not_found")
    booking = services.cancel_booking_by_staff(
        actor=request.auth, booking=booking, reason=body.reason
    )
    return booking_out(
        load_booking(booking.pk), full_answers=_full_view(request.auth, merchant_id), staff=True
    )
