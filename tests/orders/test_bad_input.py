"""Bad input to a booking is refused with a clear code and writes nothing: non-finite numbers,
text no UTF-8 can hold, identity numbers in other scripts' digits, absurd nesting."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from tests.conftest import api_for
from yuyue.catalog.models import FieldType, FormField
from yuyue.orders.models import Booking, Participant, SlotUsage
from yuyue.scheduling.models import TimeSlot

VALID_ID = "11010519491231002X"


@pytest.fixture
def slot(hall_service, hall):
    FormField.objects.create(service=hall_service, key="name", label="Name", type=FieldType.TEXT)
    FormField.objects.create(
        service=hall_service, key="id_number", label="ID", type=FieldType.ID_NUMBER, required=False
    )
    FormField.objects.create(
        service=hall_service,
        key="age",
        label="Age",
        type=FieldType.NUMBER,
        required=False,
        min_value=0,
        max_value=120,
    )
    start = timezone.now().replace(microsecond=0) + dt.timedelta(days=1)
    return TimeSlot.objects.create(
        service=hall_service,
        hall=hall,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        capacity=3,
    )


def nothing_written(slot) -> bool:
    slot.refresh_from_db()
    return (
        not Booking.objects.exists()
        and not Participant.objects.exists()
        and not SlotUsage.objects.exists()
        and slot.booked == 0
    )


def _raw_post(user, text: str):
    api = api_for(user)
    response = api.client.post(
        "/api/bookings", text, content_type="application/json", headers=api._headers()
    )
    return response.status_code, json.loads(response.content)


@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_numbers_are_refused_anywhere_in_the_body(customer, slot, token):
    answers = f'{{"answers": {{"name": "A", "age": {token}}}}}'
    for body in (
        f'{{"slot_id": {slot.pk}, "participants": [{answers}]}}',
        f'{{"slot_id": {slot.pk}, "places": {token}}}',
    ):
        status, reply = _raw_post(customer, body)
        assert (status, reply["code"]) == (422, "invalid_input"), reply
        assert "finite" in reply["detail"]
    assert nothing_written(slot)


@pytest.mark.parametrize("value", [1e300, -1e16, "NaN", "12"])
def test_form_numbers_must_be_finite_numbers_within_bounds(customer, slot, value):
    status, reply = api_for(customer).post(
        "/api/bookings",
        {"slot_id": slot.pk, "participants": [{"answers": {"name": "A", "age": value}}]},
    )
    assert (status, reply["code"]) == (422, "invalid_form")
    assert reply["errors"][0]["field"] == "age"
    assert nothing_written(slot)


def test_lone_surrogates_are_refused_not_a_server_error(customer, slot):
    status, reply = _raw_post(
        customer,
        f'{{"slot_id": {slot.pk}, "participants": [{{"answers": {{"name": "a\\ud800b"}}}}]}}',
    )
    assert (status, reply["code"]) == (422, "invalid_input")
    assert "surrogate" in reply["detail"]
    # in a key, too
    status, reply = _raw_post(
        customer, f'{{"slot_id": {slot.pk}, "participants": [{{"answers": {{"\\udfff": 1}}}}]}}'
    )
    assert (status, reply["code"]) == (422, "invalid_input")
    # a proper pair (an emoji written as two escapes) is text like any other
    status, reply = _raw_post(
        customer,
        f'{{"slot_id": {slot.pk}, "participants": [{{"answers": {{"name": "\\ud83d\\ude00"}}}}]}}',
    )
    assert status == 201, reply
    assert reply["participants"][0]["answers"]["name"] == "\U0001f600"


def test_absurd_nesting_is_refused(customer, slot):
    deep = "[" * 5000 + "]" * 5000
    status, reply = _raw_post(customer, f'{{"slot_id": {slot.pk}, "x": {deep}}}')
    assert (status, reply["code"]) == (422, "invalid_input")
    assert nothing_written(slot)


@pytest.mark.parametrize(
    "number",
    [
        "１１０１０５１９４９１２３１００２X",  # full-width digits
        "١١٠١٠٥١٩٤٩١٢٣١٠٠٢X",  # Arabic-Indic digits
        "११०१०५१९४९१२३१००२X",  # Devanagari digits
        "𝟏𝟏𝟎𝟏𝟎𝟓𝟏𝟗𝟒𝟗𝟏𝟐𝟑𝟏𝟎𝟎𝟐X",  # mathematical bold digits
        "11010519491231002Ｘ",  # a full-width X
        "110105194912310021",  # a wrong check digit
        "110105209912310020",  # born in 2099
    ],
)
def test_identity_numbers_take_ascii_digits_only(customer, slot, number):
    status, reply = api_for(customer).post(
        "/api/bookings",
        {"slot_id": slot.pk, "participants": [{"answers": {"name": "A", "id_number": number}}]},
    )
    assert (status, reply["code"]) == (422, "invalid_form")
    assert reply["errors"][0]["field"] == "id_number"
    assert nothing_written(slot)


def test_a_good_identity_number_is_kept_in_capitals(customer, slot):
    status, reply = api_for(customer).post(
        "/api/bookings",
        {
            "slot_id": slot.pk,
            "participants": [{"answers": {"name": "A", "id_number": " " + VALID_ID.lower()}}],
        },
    )
    assert status == 201, reply
    participant = Participant.objects.get()
    assert participant.answers["id_number"] == VALID_ID


def test_a_booking_refused_for_its_answers_leaves_no_usage_row(customer, slot):
    status, _ = api_for(customer).post(
        "/api/bookings",
        {"slot_id": slot.pk, "participants": [{"answers": {"age": 5}}]},  # name is required
    )
    assert status == 422
    assert nothing_written(slot)


def test_a_full_slot_leaves_no_usage_row_for_the_refused(customer, other_customer, slot):
    TimeSlot.objects.filter(pk=slot.pk).update(capacity=1)
    assert (
        api_for(other_customer).post(
            "/api/bookings", {"slot_id": slot.pk, "participants": [{"answers": {"name": "B"}}]}
        )[0]
        == 201
    )
    status, reply = api_for(customer).post(
        "/api/bookings", {"slot_id": slot.pk, "participants": [{"answers": {"name": "A"}}]}
    )
    assert (status, reply["code"]) == (409, "slot_full")
    assert list(SlotUsage.objects.values_list("customer_id", "count")) == [(other_customer.pk, 1)]
