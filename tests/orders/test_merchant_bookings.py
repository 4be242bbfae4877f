"""The merchant's booking list: filters, local times, and what a clerk may see."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import api_for, make_user
from yuyue.catalog.models import FieldType, FormField
from yuyue.scheduling.models import TimeSlot

SH = ZoneInfo("Asia/Shanghai")
VALID_ID = "11010519491231002X"


@pytest.fixture
def two_days(hall_service, hall, tomorrow_local):
    FormField.objects.create(
        service=hall_service, key="id_number", label="ID", type=FieldType.ID_NUMBER
    )
    slots = []
    for offset in (0, 1):
        day = tomorrow_local + dt.timedelta(days=offset)
        start = dt.datetime.combine(day, dt.time(9), tzinfo=SH)
        slots.append(
            TimeSlot.objects.create(
                service=hall_service,
                hall=hall,
                starts_at=start,
                ends_at=start + dt.timedelta(hours=1),
                capacity=5,
            )
        )
    ids = []
    for slot in slots:
        status, body = api_for(make_user("Guest")).post(
            "/api/bookings",
            {"slot_id": slot.pk, "participants": [{"answers": {"id_number": VALID_ID}}]},
        )
        assert status == 201, body
        ids.append(body["id"])
    return slots, ids


def test_filter_by_local_date_and_status(owner, merchant, two_days, tomorrow_local):
    slots, ids = two_days
    api = api_for(owner)
    url = f"/api/merchants/{merchant.pk}/bookings"
    status, body = api.get(
        url, {"date_from": tomorrow_local.isoformat(), "date_to": tomorrow_local.isoformat()}
    )
    assert status == 200 and [b["id"] for b in body] == [ids[0]]
    assert body[0]["local_start"] == f"{tomorrow_local.isoformat()}T09:00"
    api.post(f"{url}/{ids[1]}/cancel", {"reason": "closed for cleaning"})
    assert [b["id"] for b in api.get(url, {"status": "cancelled_by_staff"})[1]] == [ids[1]]
    assert [b["id"] for b in api.get(url, {"slot_id": slots[0].pk})[1]] == [ids[0]]
    assert api.get(url, {"status": "nonsense"})[0] == 422


def test_owner_sees_full_answers_clerk_sees_masked(owner, clerk, merchant, two_days):
    url = f"/api/merchants/{merchant.pk}/bookings"
    full = api_for(owner).get(url)[1][0]
    masked = api_for(clerk).get(url)[1][0]
    assert full["participants"][0]["answers"]["id_number"] == VALID_ID
    assert masked["participants"][0]["answers"]["id_number"] == "1101**********002X"
    assert full["customer_phone"].startswith("+86") and "****" in masked["customer_phone"]


def test_customers_and_other_merchants_see_nothing(customer, other_merchant, merchant, two_days):
    status, body = api_for(customer).get(f"/api/merchants/{merchant.pk}/bookings")
    assert (status, body["code"]) == (403, "forbidden")
    status, body = api_for(customer).get("/api/merchants/999999/bookings")
    assert (status, body["code"]) == (404, "not_found")
