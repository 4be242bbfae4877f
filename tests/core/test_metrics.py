"""Business counters move with what happens, and only with what commits (yuyue.core.metrics)."""

from __future__ import annotations

import pytest
from django.db import transaction
from prometheus_client import REGISTRY

from tests.billing.conftest import fund, open_slot  # noqa: F401
from tests.conftest import api_for
from yuyue.billing.payments import wallet
from yuyue.core.metrics import count
from yuyue.orders.metrics import BOOKINGS

pytestmark = pytest.mark.django_db(transaction=True)


def value(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_bookings_refusals_and_payments_are_counted(
    customer,
    other_customer,
    open_slot,  # noqa: F811
):
    slot = open_slot  # ¥20 a place
    slot.capacity = 1
    slot.save()
    fund(wallet(customer.pk), 5000, key="metrics-fund")
    before = {
        "made": value("yuyue_bookings_total", channel="hall_slot"),
        "full": value("yuyue_booking_refusals_total", channel="hall_slot", code="slot_full"),
        "api": value("yuyue_api_refusals_total", operation="book_slot", code="slot_full"),
        "paid": value("yuyue_payments_total", gateway="wallet", outcome="paid"),
        "fen": value("yuyue_payments_fen_total", gateway="wallet"),
    }
    status, booking = api_for(customer).post("/api/bookings", {"slot_id": slot.pk, "places": 1})
    assert status == 201
    status, problem = api_for(other_customer).post(
        "/api/bookings", {"slot_id": slot.pk, "places": 1}
    )
    assert (status, problem["code"]) == (409, "slot_full")
    status, _ = api_for(customer).post(f"/api/bookings/{booking['id']}/pay/wallet", {})
    assert status == 200
    assert value("yuyue_bookings_total", channel="hall_slot") - before["made"] == 1
    assert (
        value("yuyue_booking_refusals_total", channel="hall_slot", code="slot_full")
        - before["full"]
        == 1
    )
    assert value("yuyue_api_refusals_total", operation="book_slot", code="slot_full") == (
        before["api"] + 1
    )
    assert value("yuyue_payments_total", gateway="wallet", outcome="paid") == before["paid"] + 1
    assert value("yuyue_payments_fen_total", gateway="wallet") == before["fen"] + 2000


def test_a_rolled_back_count_counts_nothing():
    before = value("yuyue_bookings_total", channel="test")
    with pytest.raises(RuntimeError), transaction.atomic():
        count(BOOKINGS, channel="test")
        raise RuntimeError("rolled back")
    assert value("yuyue_bookings_total", channel="test") == before
    with transaction.atomic():
        count(BOOKINGS, channel="test")
        assert value("yuyue_bookings_total", channel="test") == before  # not before the commit
    assert value("yuyue_bookings_total", channel="test") == before + 1
