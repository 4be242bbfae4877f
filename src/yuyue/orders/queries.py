"""Reading bookings: the customer's list with its filters, and the merchant's booking list."""

from __future__ import annotations

import contextlib
import datetime as dt

from django.db.models import Q, QuerySet
from django.utils import timezone

from yuyue.accounts.auth import staff_halls, staff_role
from yuyue.accounts.models import StaffRole
from yuyue.accounts.phones import normalize_phone, phone_index
from yuyue.catalog.models import Merchant
from yuyue.core.errors import DomainError
from yuyue.core.timeutil import local_day_bounds, zone
from yuyue.scheduling.models import TimeSlot

from .models import Booking, BookingStatus
from .states import HOLDING

CUSTOMER_FILTERS = ("all", "upcoming", "checked_in", "expired", "cancelled")
CANCELLED = (BookingStatus.CANCELLED, BookingStatus.CANCELLED_BY_STAFF)


def customer_bookings(customer, view: str = "all") -> QuerySet[Booking]:
    """The customer's bookings: all, upcoming, checked in, expired without check-in, cancelled."""
    qs = Booking.objects.filter(customer=customer)
    now = timezone.now()
    if view == "upcoming":
        # every kind of order still to happen: a hall place, an order waiting for payment or a
        # provider, accepted, and one under way whatever the clock says
        waiting = (
            BookingStatus.AWAITING_PAYMENT,
            BookingStatus.AWAITING_PROVIDER,
            BookingStatus.BOOKED,
            BookingStatus.ACCEPTED,
        )
        under_way = (BookingStatus.DEPARTED, BookingStatus.ARRIVED, BookingStatus.IN_SERVICE)
        qs = qs.filter(Q(status__in=waiting, ends_at__gt=now) | Q(status__in=under_way)).order_by(
            "starts_at", "id"
        )
    elif view == "checked_in":  # done: checked in at the counter, or completed by a provider
        qs = qs.filter(status__in=(BookingStatus.CHECKED_IN, BookingStatus.COMPLETED))
    elif view == "expired":
        qs = qs.filter(
            Q(status=BookingStatus.BOOKED, ends_at__lte=now) | Q(status=BookingStatus.NO_SHOW)
        )
    elif view == "cancelled":
        qs = qs.filter(status__in=CANCELLED)
    elif view != "all":
        raise DomainError("invalid_input", f"view is one of {', '.join(CUSTOMER_FILTERS)}")
    return qs.select_related("service", "merchant", "slot__hall", "provider")


def merchant_bookings(
    merchant: Merchant,
    *,
    date_from: dt.date | None = None,
    date_to: dt.date | None = None,
    service_id: int | None = None,
    hall_id: int | None = None,
    slot_id: int | None = None,
    status: str | None = None,
    q: str = "",
    viewer=None,
) -> QuerySet[Booking]:
    """A merchant's bookings, filtered by local dates, service, hall, slot, status, or what
    `q` finds: a code, a part of the customer's name, or their whole phone number. A `viewer`
    whose role is limited to some halls sees only those halls' bookings."""
    qs = Booking.objects.filter(merchant=merchant)
    if viewer is not None and (limited := staff_halls(viewer, merchant.pk)) is not None:
        qs = qs.filter(slot__hall_id__in=limited)
    tz = zone(merchant.timezone)
    if date_from:
        qs = qs.filter(starts_at__gte=local_day_bounds(date_from, tz)[0])
    if date_to:
        qs = qs.filter(starts_at__lt=local_day_bounds(date_to, tz)[1])
    if service_id:
        qs = qs.filter(service_id=service_id)
    if hall_id:
        qs = qs.filter(slot__hall_id=hall_id)
    if slot_id:
        qs = qs.filter(slot_id=slot_id)
    if status == "cancelled_any":
        qs = qs.filter(status__in=CANCELLED)
    elif status:
        if status not in BookingStatus.values:
            raise DomainError("invalid_input", "Unknown status.")
        qs = qs.filter(status=status)
    if q := q.strip():
        match = Q(code=q.upper()) | Q(customer__name__icontains=q)
        digits = q.replace(" ", "").replace("-", "")
        if digits.lstrip("+").isdigit() and len(digits) >= 8:  # a phone number, whole
            with contextlib.suppress(DomainError):
                match |= Q(customer__phone_index=phone_index(normalize_phone(digits)))
        qs = qs.filter(match)
    return (
        qs.select_related("service", "merchant", "slot__hall", "provider", "customer")
        .prefetch_related("participants")
        .order_by("starts_at", "id")
    )


def hall_of(booking: Booking) -> dict:
    """What `require_staff` needs to know of a booking's hall: its id, or that it has none (an
    on-site or remote order, which no hall-limited role reaches)."""
    hall_id = booking.slot.hall_id if booking.slot_id else None
    return {"hall_id": hall_id, "every_hall": hall_id is None}


def sees_in_full(user, merchant_id: int) -> bool:
    """Owners, managers and operators see customers' phones and form answers whole; clerks see
    them masked."""
    return bool(getattr(user, "is_operator", False)) or staff_role(user, merchant_id) in (
        StaffRole.OWNER,
        StaffRole.MANAGER,
    )


def slot_counts_consistent(slot: TimeSlot) -> bool:
    """True when the slot's counters agree with its booking rows (used by tests and checks)."""
    rows = slot.bookings.values_list("status", "places")
    live = sum(p for s, p in rows if s in HOLDING)
    cancelled = sum(p for s, p in rows if s == BookingStatus.CANCELLED)
    by_staff = sum(p for s, p in rows if s == BookingStatus.CANCELLED_BY_STAFF)
    slot.refresh_from_db()
    return (slot.booked, slot.cancelled, slot.cancelled_by_staff) == (live, cancelled, by_staff)
