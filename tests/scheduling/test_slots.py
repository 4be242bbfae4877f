"""Hall calendars: slots, templates, closing, and availability with remaining places."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests.conftest import api_for, make_user
from yuyue.scheduling.models import SlotStatus, TimeSlot

SH = ZoneInfo("Asia/Shanghai")


def local(day, hour, minute=0):
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=SH)


@pytest.fixture
def manager_api(owner):
    return api_for(owner)


def test_owner_creates_a_slot_in_local_time(
    manager_api, merchant, hall_service, hall, tomorrow_local
):
    status, body = manager_api.post(
        f"/api/merchants/{merchant.pk}/slots",
        {
            "service_id": hall_service.pk,
            "hall_id": hall.pk,
            "starts_at": local(tomorrow_local, 9).isoformat(),
            "ends_at": local(tomorrow_local, 10).isoformat(),
            "capacity": 10,
        },
    )
    assert status == 201, body
    assert body["local_start"] == f"{tomorrow_local.isoformat()}T09:00"
    slot = TimeSlot.objects.get(pk=body["id"])
    assert slot.starts_at == local(tomorrow_local, 1).replace(tzinfo=dt.UTC)  # stored in UTC


def test_overlapping_and_inverted_slots_refused(
    manager_api, merchant, hall_service, hall, tomorrow_local
):
    url = f"/api/merchants/{merchant.pk}/slots"
    base = {"service_id": hall_service.pk, "hall_id": hall.pk, "capacity": 5}
    assert (
        manager_api.post(
            url,
            {
                **base,
                "starts_at": local(tomorrow_local, 9).isoformat(),
                "ends_at": local(tomorrow_local, 10).isoformat(),
            },
        )[0]
        == 201
    )
    status, body = manager_api.post(
        url,
        {
            **base,
            "starts_at": local(tomorrow_local, 9, 30).isoformat(),
            "ends_at": local(tomorrow_local, 10, 30).isoformat(),
        },
    )
    assert (status, body["code"]) == (409, "slot_overlaps")
    status, body = manager_api.post(
        url,
        {
            **base,
            "starts_at": local(tomorrow_local, 12).isoformat(),
            "ends_at": local(tomorrow_local, 11).isoformat(),
        },
    )
    assert (status, body["code"]) == (422, "invalid_slot_range")
    assert TimeSlot.objects.count() == 1


def test_clerk_and_strangers_cannot_set_up(
    clerk, customer, merchant, hall_service, hall, tomorrow_local
):
    body = {
        "service_id": hall_service.pk,
        "hall_id": hall.pk,
        "capacity": 5,
        "starts_at": local(tomorrow_local, 9).isoformat(),
        "ends_at": local(tomorrow_local, 10).isoformat(),
    }
    for user in (clerk, customer):
        status, problem = api_for(user).post(f"/api/merchants/{merchant.pk}/slots", body)
        assert (status, problem["code"]) == (403, "forbidden")
    assert not TimeSlot.objects.exists()


def test_capacity_never_below_booked(
    manager_api, merchant, hall_service, hall, customer, other_customer
):
    start = timezone.now() + dt.timedelta(days=1)
    slot = TimeSlot.objects.create(
        service=hall_service,
        hall=hall,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        capacity=5,
    )
    api_for(customer).post("/api/bookings", {"slot_id": slot.pk, "places": 2})
    api_for(other_customer).post("/api/bookings", {"slot_id": slot.pk, "places": 1})
    url = f"/api/merchants/{merchant.pk}/slots/{slot.pk}"
    status, body = manager_api.patch(url, {"capacity": 2})
    assert (status, body["code"]) == (409, "capacity_below_booked")
    assert "3" in body["detail"]
    status, body = manager_api.patch(url, {"capacity": 3})
    assert status == 200 and body["capacity"] == 3 and body["remaining"] == 0


def test_close_slot_and_close_day(
    manager_api, merchant, hall_service, hall, customer, tomorrow_local
):
    slots = [
        TimeSlot.objects.create(
            service=hall_service,
            hall=hall,
            starts_at=local(tomorrow_local, h),
            ends_at=local(tomorrow_local, h + 1),
            capacity=5,
        )
        for h in (9, 10, 11)
    ]
    later = TimeSlot.objects.create(
        service=hall_service,
        hall=hall,
        starts_at=local(tomorrow_local + dt.timedelta(days=1), 9),
        ends_at=local(tomorrow_local + dt.timedelta(days=1), 10),
    )
    status, body = manager_api.patch(
        f"/api/merchants/{merchant.pk}/slots/{slots[0].pk}", {"status": "closed"}
    )
    assert status == 200 and body["status"] == "closed"
    assert (
        api_for(customer).post("/api/bookings", {"slot_id": slots[0].pk})[1]["code"]
        == "slot_closed"
    )
    status, body = manager_api.post(
        f"/api/merchants/{merchant.pk}/slots/close-day",
        {"service_id": hall_service.pk, "date": tomorrow_local.isoformat()},
    )
    assert status == 200 and body["closed"] == 3
    assert TimeSlot.objects.filter(status=SlotStatus.CLOSED).count() == 3
    later.refresh_from_db()
    assert later.status == SlotStatus.OPEN


def test_template_fills_days_once(manager_api, merchant, hall_service, hall, tomorrow_local):
    status, template = manager_api.post(
        f"/api/merchants/{merchant.pk}/slot-templates",
        {
            "service_id": hall_service.pk,
            "hall_id": hall.pk,
            "name": "weekdays",
            "rows": [
                {"weekdays": [0, 1, 2, 3, 4], "start": "09:00", "end": "10:00", "capacity": 10},
                {"weekdays": [0, 1, 2, 3, 4], "start": "10:00", "end": "11:00"},
                {"weekdays": [5], "start": "09:00", "end": "12:00", "capacity": 30},
            ],
        },
    )
    assert status == 201, template
    url = f"/api/merchants/{merchant.pk}/slot-templates/{template['id']}/fill"
    span = {
        "date_from": tomorrow_local.isoformat(),
        "date_to": (tomorrow_local + dt.timedelta(days=13)).isoformat(),
    }
    status, body = manager_api.post(url, span)
    assert status == 200 and body["created"] == 10 * 2 + 2 * 1  # 10 weekdays, 2 Saturdays
    assert manager_api.post(url, span)[1]["created"] == 0
    slot = TimeSlot.objects.filter(capacity=30).first()
    assert slot.starts_at.astimezone(SH).weekday() == 5
    assert slot.starts_at.astimezone(SH).time() == dt.time(9)
    assert TimeSlot.objects.filter(capacity__isnull=True).count() == 10
    status, body = manager_api.post(url, {"date_from": "2026-01-10", "date_to": "2026-01-01"})
    assert (status, body["code"]) == (422, "invalid_date_range")


def test_availability_and_staff_counts(
    manager_api, merchant, hall_service, hall, customer, tomorrow_local
):
    slot = TimeSlot.objects.create(
        service=hall_service,
        hall=hall,
        starts_at=local(tomorrow_local, 9),
        ends_at=local(tomorrow_local, 10),
        capacity=4,
    )
    _, b = api_for(customer).post("/api/bookings", {"slot_id": slot.pk, "places": 2})
    api_for(customer).post(f"/api/bookings/{b['id']}/cancel", {})
    api_for(make_user()).post("/api/bookings", {"slot_id": slot.pk, "places": 3})
    status, body = api_for(None).get(
        f"/api/services/{hall_service.pk}/availability", {"date_from": tomorrow_local.isoformat()}
    )
    assert status == 200
    assert [(s["id"], s["remaining"], s["bookable"]) for s in body] == [(slot.pk, 1, True)]
    status, body = manager_api.get(
        f"/api/merchants/{merchant.pk}/slots", {"date_from": tomorrow_local.isoformat()}
    )
    assert [(s["booked"], s["cancelled"], s["cancelled_by_staff"]) for s in body] == [(3, 2, 0)]
    assert body[0]["bookable"] is True  # staff see what customers see
    api_for(make_user()).post("/api/bookings", {"slot_id": slot.pk, "places": 1})
    status, body = manager_api.get(
        f"/api/merchants/{merchant.pk}/slots", {"date_from": tomorrow_local.isoformat()}
    )
    assert (body[0]["remaining"], body[0]["bookable"]) == (0, False)  # full now


def test_availability_bad_range(hall_service):
    status, body = api_for(None).get(
        f"/api/services/{hall_service.pk}/availability",
        {"date_from": "2026-01-01", "date_to": "2026-12-31"},
    )
    assert (status, body["code"]) == (422, "invalid_date_range")
    status, body = api_for(None).get(
        f"/api/services/{hall_service.pk}/availability", {"date_from": "not-a-date"}
    )
    assert (status, body["code"]) == (422, "invalid_input")
