"""The operators' back office: every page opens, people are found by phone, actions use the
same services as the API."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib import admin
from django.urls import reverse
from django.utils import timezone

from tests.conftest import api_for
from yuyue.orders.models import Booking, BookingStatus
from yuyue.scheduling.models import SlotStatus, TimeSlot


@pytest.fixture
def op_client(client, operator):
    operator.is_superuser = True
    operator.save()
    client.force_login(operator)
    return client


@pytest.fixture
def slot(hall_service, hall):
    start = timezone.now() + dt.timedelta(days=1)
    return TimeSlot.objects.create(
        service=hall_service,
        hall=hall,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        capacity=5,
    )


def test_every_admin_page_opens(op_client, slot, customer, provider):
    api_for(customer).post("/api/bookings", {"slot_id": slot.pk})
    for model in admin.site._registry:
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        assert op_client.get(url).status_code == 200, url
        obj = model.objects.first()
        if obj is not None:
            url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
            assert op_client.get(url).status_code == 200, url


def test_find_a_person_by_phone(op_client, customer, other_customer):
    response = op_client.get(
        reverse("admin:accounts_user_changelist"), {"q": customer.phone[3:]}
    )  # typed without +86
    assert list(response.context["cl"].result_list) == [customer]


def test_close_slot_action(op_client, slot):
    op_client.post(
        reverse("admin:scheduling_timeslot_changelist"),
        {"action": "close_slot", "_selected_action": [slot.pk]},
    )
    slot.refresh_from_db()
    assert slot.status == SlotStatus.CLOSED


def test_cancel_action_asks_for_a_reason(op_client, slot, customer):
    _, body = api_for(customer).post("/api/bookings", {"slot_id": slot.pk})
    url = reverse("admin:orders_booking_changelist")
    page = op_client.post(url, {"action": "cancel_with_reason", "_selected_action": [body["id"]]})
    assert b"reason" in page.content
    op_client.post(
        url,
        {
            "action": "cancel_with_reason",
            "_selected_action": [body["id"]],
            "apply": "1",
            "reason": "hall closed",
        },
    )
    booking = Booking.objects.get(pk=body["id"])
    assert (booking.status, booking.cancel_reason) == (
        BookingStatus.CANCELLED_BY_STAFF,
        "hall closed",
    )
    slot.refresh_from_db()
    assert slot.cancelled_by_staff == 1
