"""Booking a hall slot through the API: every rule of the multi-hall system, and bad input."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.conftest import api_for, make_user
from yuyue.catalog.models import CancelPolicy, DeadlineRule, FieldType, FormField
from yuyue.core.models import AuditLog
from yuyue.orders.models import Booking, BookingStatus, Participant
from yuyue.orders.queries import slot_counts_consistent
from yuyue.scheduling.models import SlotStatus, TimeSlot

VALID_ID = "11010519491231002X"  # a well-formed GB 11643 number (check digit X)


@pytest.fixture
def slot(hall_service, hall):
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=1)
    return TimeSlot.objects.create(
        service=hall_service,
        hall=hall,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        capacity=3,
    )


@pytest.fixture
def form(hall_service):
    FormField.objects.create(service=hall_service, key="name", label="Name", type=FieldType.TEXT)
    FormField.objects.create(
        service=hall_service, key="id_number", label="ID number", type=FieldType.ID_NUMBER
    )
    FormField.objects.create(
        service=hall_service, key="phone", label="Phone", type=FieldType.PHONE, required=False
    )
    return hall_service


def nothing_written(slot) -> bool:
    slot.refresh_from_db()
    return not Booking.objects.exists() and not Participant.objects.exists() and slot.booked == 0


def test_book_one_place_gives_a_code_and_counts(customer, slot):
    status, body = api_for(customer).post("/api/bookings", {"slot_id": slot.pk})
    assert status == 201, body
    assert body["status"] == "booked" and body["places"] == 1
    assert len(body["code"]) == 10 and body["qr_url"].endswith(".svg")
    slot.refresh_from_db()
    assert slot.booked == 1
    assert slot_counts_consistent(slot)
    assert AuditLog.objects.filter(action="booking.create").count() == 1


def test_book_several_places_with_form_answers(customer, slot, form):
    participants = [
        {"answers": {"name": "张三", "id_number": VALID_ID, "phone": "13800138000"}},
        {"answers": {"name": "李四", "id_number": VALID_ID.lower()}},
    ]
    status, body = api_for(customer).post(
        "/api/bookings", {"slot_id": slot.pk, "places": 2, "participants": participants}
    )
    assert status == 201, body
    assert [p["answers"]["name"] for p in body["participants"]] == ["张三", "李四"]
    assert body["participants"][0]["answers"]["phone"] == "+8613800138000"
    slot.refresh_from_db()
    assert slot.booked == 2


def test_the_booking_answer_is_what_the_schema_gives(customer, slot, form):
    """A new booking's answer skips ninja's output validation (the hot path): it must be the very
    answer the schema-validated view of the same booking gives, field for field, and a valid
    BookingOut."""
    from yuyue.orders.api import BookingOut

    participants = [
        {"answers": {"name": "张三", "id_number": VALID_ID, "phone": "13800138000"}},
        {"answers": {"name": "李四", "id_number": VALID_ID}},
    ]
    api = api_for(customer)
    status, made = api.post(
        "/api/bookings", {"slot_id": slot.pk, "places": 2, "participants": participants}
    )
    assert status == 201, made
    status, shown = api.get(f"/api/bookings/{made['id']}")
    assert status == 200
    assert made == shown
    assert set(made) == set(BookingOut.model_fields)
    BookingOut.model_validate(made)


def test_answers_are_encrypted_at_rest(customer, slot, form):
    api_for(customer).post(
        "/api/bookings",
        {
            "slot_id": slot.pk,
            "participants": [{"answers": {"name": "张三", "id_number": VALID_ID}}],
        },
    )
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT answers FROM orders_participant")
        raw = cursor.fetchone()[0]
    assert VALID_ID not in raw and "张三" not in raw


def test_capacity_is_never_exceeded(slot):
    results = []
    for _ in range(4):
        results.append(api_for(make_user()).post("/api/bookings", {"slot_id": slot.pk}))
    assert [s for s, _ in results] == [201, 201, 201, 409]
    assert results[-1][1]["code"] == "slot_full"
    slot.refresh_from_db()
    assert slot.booked == 3


def test_places_must_fit_the_remaining_capacity(customer, other_customer, slot):
    assert api_for(customer).post("/api/bookings", {"slot_id": slot.pk, "places": 2})[0] == 201
    status, body = api_for(other_customer).post("/api/bookings", {"slot_id": slot.pk, "places": 2})
    assert (status, body["code"]) == (409, "slot_full")
    slot.refresh_from_db()
    assert slot.booked == 2


def test_unlimited_slot(customer, slot):
    TimeSlot.objects.filter(pk=slot.pk).update(capacity=None)
    status, body = api_for(customer).post("/api/bookings", {"slot_id": slot.pk, "places": 10})
    assert status == 201, body


def test_per_user_limit_default_one(customer, slot):
    api = api_for(customer)
    assert api.post("/api/bookings", {"slot_id": slot.pk})[0] == 201
    status, body = api.post("/api/bookings", {"slot_id": slot.pk})
    assert (status, body["code"]) == (409, "per_user_limit")
    assert Booking.objects.count() == 1


def test_per_user_limit_configurable_and_freed_by_cancel(customer, slot, hall_service):
    hall_service.per_user_limit = 2
    hall_service.save()
    api = api_for(customer)
    first = api.post("/api/bookings", {"slot_id": slot.pk})[1]
    assert api.post("/api/bookings", {"slot_id": slot.pk})[0] == 201
    assert api.post("/api/bookings", {"slot_id": slot.pk})[1]["code"] == "per_user_limit"
    assert api.post(f"/api/bookings/{first['id']}/cancel", {})[0] == 200
    assert api.post("/api/bookings", {"slot_id": slot.pk})[0] == 201


def test_closed_slot_refused(customer, slot):
    TimeSlot.objects.filter(pk=slot.pk).update(status=SlotStatus.CLOSED)
    status, body = api_for(customer).post("/api/bookings", {"slot_id": slot.pk})
    assert (status, body["code"]) == (409, "slot_closed")
    assert nothing_written(slot)


def test_past_slot_refused(customer, slot):
    past = timezone.now() - dt.timedelta(hours=3)
    TimeSlot.objects.filter(pk=slot.pk).update(starts_at=past, ends_at=past + dt.timedelta(hours=1))
    status, body = api_for(customer).post("/api/bookings", {"slot_id": slot.pk})
    assert (status, body["code"]) == (409, "slot_past")
    assert nothing_written(slot)


def test_deadline_before_start(customer, slot, hall_service):
    hall_service.deadline_rule = DeadlineRule.BEFORE_START
    hall_service.deadline_minutes = 60 * 25  # closes 25 h before a slot that starts in 24 h
    hall_service.save()
    status, body = api_for(customer).post("/api/bookings", {"slot_id": slot.pk})
    assert (status, body["code"]) == (409, "booking_closed")
    assert nothing_written(slot)


def test_deadline_slot_end_allows_booking_after_start(customer, slot, hall_service):
    hall_service.deadline_rule = DeadlineRule.SLOT_END
    hall_service.save()
    started = timezone.now() - dt.timedelta(minutes=10)
    TimeSlot.objects.filter(pk=slot.pk).update(
        starts_at=started, ends_at=started + dt.timedelta(hours=1)
    )
    assert api_for(customer).post("/api/bookings", {"slot_id": slot.pk})[0] == 201


@pytest.mark.parametrize("places", [0, -1, 10_000, True, "2"])
def test_bad_number_of_places(customer, slot, places):
    status, body = api_for(customer).post("/api/bookings", {"slot_id": slot.pk, "places": places})
    assert status == 422
    assert body["code"] in ("invalid_places", "invalid_input")
    assert nothing_written(slot)


def test_a_booking_with_a_bad_token_is_refused_before_anything_about_the_slot(customer, slot):
    """The token is looked up with the slot, in one statement: a token that is unknown, revoked,
    expired, too long, or an inactive person's is 401 whether or not the slot exists (a stranger
    learns nothing of slots), and nothing is written."""
    from tests.conftest import Api
    from yuyue.accounts.models import ApiToken
    from yuyue.accounts.tokens import issue_token, revoke_token

    revoked, _ = issue_token(user=customer, via="password")
    revoke_token(revoked)
    expired, token = issue_token(user=customer, via="password")
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now())
    idle = make_user("Idle Zhou")
    inactive, _ = issue_token(user=idle, via="password")
    idle.is_active = False
    idle.save()
    for key in ("no-such-token", revoked, expired, inactive, "x" * 201):
        for slot_id in (slot.pk, 999_999):
            status, body = Api(key).post("/api/bookings", {"slot_id": slot_id})
            assert (status, body["code"]) == (401, "auth_required"), (key, slot_id)
        status, body = Api(key).post(
            "/api/bookings", {"slot_id": slot.pk}, headers={"Idempotency-Key": "k"}
        )
        assert (status, body["code"]) == (401, "auth_required")
    assert nothing_written(slot)
    # a good token books, as the booking's customer
    status, body = api_for(customer).post("/api/bookings", {"slot_id": slot.pk})
    assert status == 201 and Booking.objects.get(pk=body["id"]).customer_id == customer.pk


def test_unknown_slot(customer, slot):
    status, body = api_for(customer).post("/api/bookings", {"slot_id": 999_999})
    assert (status, body["code"]) == (404, "not_found")
    assert body["type"].endswith("/not_found") and body["status"] == 404


def test_missing_token(slot):
    status, body = api_for(None).post("/api/bookings", {"slot_id": slot.pk})
    assert (status, body["code"]) == (401, "auth_required")
    assert nothing_written(slot)


def test_bad_id_number_checksum(customer, slot, form):
    bad = VALID_ID[:-1] + "1"
    status, body = api_for(customer).post(
        "/api/bookings",
        {"slot_id": slot.pk, "participants": [{"answers": {"name": "张三", "id_number": bad}}]},
    )
    assert (status, body["code"]) == (422, "invalid_form")
    assert body["errors"][0]["field"] == "id_number"
    assert nothing_written(slot)


def test_malformed_phone_in_form(customer, slot, form):
    status, body = api_for(customer).post(
        "/api/bookings",
        {
            "slot_id": slot.pk,
            "participants": [
                {"answers": {"name": "张三", "id_number": VALID_ID, "phone": "12345"}}
            ],
        },
    )
    assert (status, body["code"]) == (422, "invalid_form")
    assert {e["field"] for e in body["errors"]} == {"phone"}
    assert nothing_written(slot)


def test_missing_required_and_unknown_fields(customer, slot, form):
    status, body = api_for(customer).post(
        "/api/bookings", {"slot_id": slot.pk, "participants": [{"answers": {"nickname": "x"}}]}
    )
    assert status == 422
    assert {(e["field"], e["problem"]) for e in body["errors"]} >= {
        ("name", "required"),
        ("id_number", "required"),
        ("nickname", "unknown field"),
    }
    assert nothing_written(slot)


def test_one_participant_per_place(customer, slot, form):
    status, body = api_for(customer).post(
        "/api/bookings", {"slot_id": slot.pk, "places": 2, "participants": [{"answers": {}}]}
    )
    assert (status, body["code"]) == (422, "participants_mismatch")
    assert nothing_written(slot)


def test_messages_follow_accept_language(customer, slot):
    TimeSlot.objects.filter(pk=slot.pk).update(status=SlotStatus.CLOSED)
    _, en = api_for(customer, language="en").post("/api/bookings", {"slot_id": slot.pk})
    _, zh = api_for(customer, language="zh-hans").post("/api/bookings", {"slot_id": slot.pk})
    assert en["code"] == zh["code"] == "slot_closed"
    assert en["detail"] == "This slot is closed."
    assert zh["detail"] == "该时段已关闭预约。"


def test_idempotency_key_replays_the_first_answer(customer, slot):
    api = api_for(customer)
    headers = {"Idempotency-Key": "k-123"}
    first = api.post("/api/bookings", {"slot_id": slot.pk}, headers=headers)
    again = api.post("/api/bookings", {"slot_id": slot.pk}, headers=headers)
    assert first[0] == again[0] == 201
    assert first[1]["id"] == again[1]["id"]
    assert Booking.objects.count() == 1
    status, body = api.post("/api/bookings", {"slot_id": slot.pk, "places": 2}, headers=headers)
    assert (status, body["code"]) == (422, "idempotency_key_reused")


# --- listing, viewing, cancelling -------------------------------------------------------------


def _book(user, slot, **extra):
    status, body = api_for(user).post("/api/bookings", {"slot_id": slot.pk, **extra})
    assert status == 201, body
    return body


def test_customer_lists_with_filters(customer, slot, hall_service, hall):
    now = timezone.now()
    past = TimeSlot.objects.create(
        service=hall_service,
        hall=hall,
        starts_at=now + dt.timedelta(hours=2),
        ends_at=now + dt.timedelta(hours=3),
        capacity=5,
    )
    third = TimeSlot.objects.create(
        service=hall_service,
        hall=hall,
        starts_at=now + dt.timedelta(days=2),
        ends_at=now + dt.timedelta(days=2, hours=1),
        capacity=5,
    )
    upcoming = _book(customer, slot)
    expired = _book(customer, past)
    cancelled = _book(customer, third)
    api = api_for(customer)
    api.post(f"/api/bookings/{cancelled['id']}/cancel", {"reason": "plans changed"})
    # the second booking's slot ends in the past now: expired without check-in
    TimeSlot.objects.filter(pk=past.pk).update(
        starts_at=now - dt.timedelta(hours=2), ends_at=now - dt.timedelta(hours=1)
    )
    Booking.objects.filter(pk=expired["id"]).update(
        starts_at=now - dt.timedelta(hours=2), ends_at=now - dt.timedelta(hours=1)
    )

    def ids(view):
        status, body = api.get("/api/bookings", {"view": view})
        assert status == 200
        return {b["id"] for b in body}

    assert ids("all") == {upcoming["id"], expired["id"], cancelled["id"]}
    assert ids("upcoming") == {upcoming["id"]}
    assert ids("expired") == {expired["id"]}
    assert ids("cancelled") == {cancelled["id"]}
    assert ids("checked_in") == set()
    assert api.get("/api/bookings", {"view": "nonsense"})[0] == 422
    # paging past the end is an empty page; an offset no database takes is bad input, not a 500
    assert api.get("/api/bookings", {"offset": 3})[1] == []
    assert api.get("/api/bookings", {"offset": 2, "limit": 1})[0] == 200
    for offset in (10**9 + 1, 713685188779241218506752):
        status, problem = api.get("/api/bookings", {"offset": offset})
        assert (status, problem["code"]) == (422, "invalid_input")


def test_another_customers_booking_is_not_found(customer, other_customer, slot):
    booking = _book(customer, slot)
    other = api_for(other_customer)
    assert other.get(f"/api/bookings/{booking['id']}")[1]["code"] == "not_found"
    status, body = other.post(f"/api/bookings/{booking['id']}/cancel", {})
    assert (status, body["code"]) == (404, "not_found")
    assert Booking.objects.get(pk=booking["id"]).status == BookingStatus.BOOKED
    assert api_for(customer).get(f"/api/bookings/{booking['id']}")[0] == 200


def test_cancel_gives_places_back_and_keeps_the_row(customer, slot):
    booking = _book(customer, slot, places=2)
    status, body = api_for(customer).post(
        f"/api/bookings/{booking['id']}/cancel", {"reason": "ill"}
    )
    assert status == 200 and body["status"] == "cancelled"
    slot.refresh_from_db()
    assert (slot.booked, slot.cancelled, slot.cancelled_by_staff) == (0, 2, 0)
    assert Booking.objects.filter(pk=booking["id"]).exists()
    assert slot_counts_consistent(slot)
    status, body = api_for(customer).post(f"/api/bookings/{booking['id']}/cancel", {})
    assert (status, body["code"]) == (409, "already_cancelled")
    slot.refresh_from_db()
    assert slot.cancelled == 2


def test_cancel_policy_never(customer, slot, hall_service):
    hall_service.cancel_policy = CancelPolicy.NEVER
    hall_service.save()
    booking = _book(customer, slot)
    status, body = api_for(customer).post(f"/api/bookings/{booking['id']}/cancel", {})
    assert (status, body["code"]) == (409, "cancel_never")


def test_cancel_policy_before_start(customer, slot, hall_service):
    booking = _book(customer, slot)
    started = timezone.now() - dt.timedelta(minutes=5)
    Booking.objects.filter(pk=booking["id"]).update(starts_at=started)
    status, body = api_for(customer).post(f"/api/bookings/{booking['id']}/cancel", {})
    assert (status, body["code"]) == (409, "cancel_after_start")
    hall_service.cancel_policy = CancelPolicy.ANY_TIME
    hall_service.save()
    assert api_for(customer).post(f"/api/bookings/{booking['id']}/cancel", {})[0] == 200


def test_staff_cancel_needs_a_reason_and_counts_apart(customer, owner, slot, merchant):
    booking = _book(customer, slot)
    staff = api_for(owner)
    url = f"/api/merchants/{merchant.pk}/bookings/{booking['id']}/cancel"
    status, body = staff.post(url, {"reason": ""})
    assert status == 422
    status, body = staff.post(url, {"reason": "hall flooded"})
    assert status == 200 and body["status"] == "cancelled_by_staff"
    assert body["cancel_reason"] == "hall flooded"
    slot.refresh_from_db()
    assert (slot.booked, slot.cancelled, slot.cancelled_by_staff) == (0, 0, 1)
    assert slot_counts_consistent(slot)


def test_staff_of_another_merchant_cannot_cancel(customer, slot, other_merchant):
    from yuyue.accounts.models import MerchantStaff, StaffRole

    stranger = make_user("Other owner")
    MerchantStaff.objects.create(user=stranger, merchant=other_merchant, role=StaffRole.OWNER)
    booking = _book(customer, slot)
    status, body = api_for(stranger).post(
        f"/api/merchants/{other_merchant.pk}/bookings/{booking['id']}/cancel", {"reason": "x"}
    )
    assert (status, body["code"]) == (404, "not_found")
    status, body = api_for(stranger).post(
        f"/api/merchants/{slot.service.merchant_id}/bookings/{booking['id']}/cancel",
        {"reason": "x"},
    )
    assert (status, body["code"]) == (403, "forbidden")
    assert Booking.objects.get(pk=booking["id"]).status == BookingStatus.BOOKED
