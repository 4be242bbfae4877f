"""Orders with a price wait for payment; unpaid ones expire by the worker's sweep and give back
places."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.conftest import api_for
from yuyue.orders.models import Booking, BookingStatus, PaymentStatus
from yuyue.orders.queries import slot_counts_consistent
from yuyue.orders.services import confirm_payment, expire_due_unpaid, expire_unpaid
from yuyue.orders.tasks import expire_unpaid_job
from yuyue.scheduling.models import TimeSlot


@pytest.fixture
def paid_slot(hall_service, hall):
    hall_service.base_price_fen = 2500
    hall_service.save()
    start = timezone.now() + dt.timedelta(days=1)
    return TimeSlot.objects.create(
        service=hall_service,
        hall=hall,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        capacity=2,
    )


def test_priced_booking_awaits_payment_then_is_booked(customer, paid_slot):
    status, body = api_for(customer).post("/api/bookings", {"slot_id": paid_slot.pk, "places": 2})
    assert status == 201
    assert (body["status"], body["payment_status"], body["price_fen"]) == (
        "awaiting_payment",
        "unpaid",
        5000,
    )
    assert body["pay_before"] is not None
    booking = confirm_payment(booking_id=body["id"], reference="sandbox-1")
    assert (booking.status, booking.payment_status) == (BookingStatus.BOOKED, PaymentStatus.PAID)
    assert expire_unpaid(booking_id=booking.pk) is False


def test_expiry_waits_for_the_deadline(customer, paid_slot):
    _, body = api_for(customer).post("/api/bookings", {"slot_id": paid_slot.pk})
    assert expire_unpaid(booking_id=body["id"]) is False  # deadline not reached
    assert Booking.objects.get(pk=body["id"]).status == BookingStatus.AWAITING_PAYMENT


@pytest.mark.django_db(transaction=True)
def test_unpaid_booking_expires_in_the_worker(settings, customer, paid_slot):
    settings.YUYUE_PAYMENT_MINUTES = 0  # the deadline is now
    status, body = api_for(customer).post("/api/bookings", {"slot_id": paid_slot.pk, "places": 2})
    assert status == 201
    paid_slot.refresh_from_db()
    assert paid_slot.booked == 2
    assert not DBTaskResult.objects.exists()  # a booking writes no job row (ADR 0010)
    expire_unpaid_job.enqueue(reschedule=False)  # what ensure_periodic_jobs starts
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    booking = Booking.objects.get(pk=body["id"])
    assert booking.status == BookingStatus.EXPIRED
    paid_slot.refresh_from_db()
    assert paid_slot.booked == 0 and slot_counts_consistent(paid_slot)
    with pytest.raises(Exception) as exc:
        confirm_payment(booking_id=booking.pk)
    assert getattr(exc.value, "code", None) == "illegal_transition"


def test_the_sweep_expires_only_orders_past_their_deadline(customer, paid_slot):
    """Unpaid orders past `pay_before` expire and give back their places; one still in time, a
    paid one and one already expired are left as they are; a second sweep finds nothing."""
    paid_slot.service.per_user_limit = 3
    paid_slot.service.save()
    TimeSlot.objects.filter(pk=paid_slot.pk).update(capacity=3)
    api = api_for(customer)
    due, in_time, paid = (api.post("/api/bookings", {"slot_id": paid_slot.pk})[1] for _ in "abc")
    past = timezone.now() - dt.timedelta(seconds=1)
    Booking.objects.filter(pk__in=[due["id"], paid["id"]]).update(pay_before=past)
    confirm_payment(booking_id=paid["id"])

    assert expire_due_unpaid() == 1
    statuses = dict(Booking.objects.values_list("pk", "status"))
    assert statuses == {
        due["id"]: BookingStatus.EXPIRED,
        in_time["id"]: BookingStatus.AWAITING_PAYMENT,
        paid["id"]: BookingStatus.BOOKED,
    }
    paid_slot.refresh_from_db()
    assert paid_slot.booked == 2 and slot_counts_consistent(paid_slot)
    assert expire_due_unpaid() == 0
