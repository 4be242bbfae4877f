"""What the booking API answers (shared by the customers', staff's and providers' routers, and
by dispatch's), and the bodies of a provider's steps."""

from __future__ import annotations

import datetime as dt

from django.http import HttpResponse
from ninja import Field, Schema

from yuyue.core.answers import as_built
from yuyue.core.crypto import mask_id_number, mask_phone
from yuyue.core.timeutil import zone

from .models import Booking


class ParticipantOut(Schema):
    position: int
    answers: dict


class OrderBase(Schema):
    id: int
    channel: str
    status: str
    payment_status: str
    pay_before: dt.datetime | None
    address: str
    lat: float | None
    lng: float | None
    quantity: int
    merchant_id: int
    merchant_name: str
    service_id: int
    service_name: str
    slot_id: int | None
    hall_name: str | None
    provider_id: int | None
    provider_name: str | None
    starts_at: dt.datetime
    ends_at: dt.datetime
    local_start: str = Field(description="Start in the merchant's zone")
    timezone: str
    places: int
    price_fen: int
    created_at: dt.datetime
    cancelled_at: dt.datetime | None
    cancel_reason: str
    checked_in_at: dt.datetime | None
    participants: list[ParticipantOut]


class BookingOut(OrderBase):
    code: str = Field(description="Check-in / verification code 核销码: show it, never share it")
    qr_url: str = Field(description="The check-in code as a QR code (SVG).")
    qr_png_url: str = Field(description="The same QR code as a PNG image.")


class ProviderOrderOut(OrderBase):
    """What the provider sees: everything but the customer's verification code."""

    customer_name: str


class StaffBookingOut(BookingOut):
    customer_name: str
    customer_phone: str


def _masked_answers(booking: Booking, answers: dict, full: bool) -> dict:
    if full:
        return answers
    kinds = {f.key: f.type for f in booking.service.form_fields.all()}
    out = {}
    for key, value in answers.items():
        if kinds.get(key) == "id_number":
            value = mask_id_number(value)
        elif kinds.get(key) == "phone":
            value = mask_phone(value)
        out[key] = value
    return out


def booking_out(booking: Booking, *, full_answers: bool = True, staff: bool = False) -> dict:
    tzname = booking.merchant.timezone
    data = {
        "id": booking.pk,
        "code": booking.code,
        "qr_url": f"/bookings/{booking.code}/qr.svg",
        "qr_png_url": f"/bookings/{booking.code}/qr.png",
        "status": booking.status,
        "channel": booking.channel,
        "payment_status": booking.payment_status,
        "pay_before": booking.pay_before,
        "address": booking.address,
        "lat": booking.lat,
        "lng": booking.lng,
        "quantity": booking.quantity,
        "merchant_id": booking.merchant_id,
        "merchant_name": booking.merchant.name,
        "service_id": booking.service_id,
        "service_name": booking.service.name,
        "slot_id": booking.slot_id,
        "hall_name": booking.slot.hall.name if booking.slot_id else None,
        "provider_id": booking.provider_id,
        "provider_name": booking.provider.display_name if booking.provider_id else None,
        "starts_at": booking.starts_at,
        "ends_at": booking.ends_at,
        "local_start": booking.starts_at.astimezone(zone(tzname)).strftime("%Y-%m-%dT%H:%M"),
        "timezone": tzname,
        "places": booking.places,
        "price_fen": booking.price_fen,
        "created_at": booking.created_at,
        "cancelled_at": booking.cancelled_at,
        "cancel_reason": booking.cancel_reason,
        "checked_in_at": booking.checked_in_at,
        "participants": [
            {
                "position": p.position,
                "answers": _masked_answers(booking, p.answers or {}, full_answers),
            }
            for p in booking.participants.all()
        ],
    }
    if staff:
        data["customer_name"] = booking.customer.name
        data["customer_phone"] = (
            booking.customer.phone if full_answers else booking.customer.masked_phone
        )
    return data


def booking_created(request, booking: Booking) -> HttpResponse:
    """201 with the booking as built by `booking_out` (tested equal to the validated view)."""
    return as_built(request, booking_out(booking), status=201)


def load_booking(booking_id: int) -> Booking:
    return Booking.objects.select_related(
        "service", "merchant", "slot__hall", "provider", "customer"
    ).get(pk=booking_id)


# --- customers -------------------------------------------------------------------------------


def provider_order_out(booking: Booking) -> dict:
    data = booking_out(booking, full_answers=False)
    data.pop("code")
    data.pop("qr_url")
    data.pop("qr_png_url")
    data["customer_name"] = booking.customer.name
    return data


class PointIn(Schema):
    lat: float = Field(ge=-90, le=90, strict=True)
    lng: float = Field(ge=-180, le=180, strict=True)


class CodePointIn(PointIn):
    code: str = Field(min_length=1, max_length=40)
