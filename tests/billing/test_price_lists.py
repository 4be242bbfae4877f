"""A merchant's price lists: while valid they set the unit price in quotes and new orders."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.billing.test_payments import book
from tests.conftest import api_for, make_user
from yuyue.accounts.models import MerchantStaff, StaffRole

pytestmark = pytest.mark.django_db


def local_today():
    return timezone.now().astimezone(dt.timezone(dt.timedelta(hours=8))).date()


def test_price_lists_set_prices_while_valid(merchant, owner, hall_service, open_slot, customer):
    api = api_for(owner)
    day = local_today()
    base = {"valid_from": str(day - dt.timedelta(days=30))}
    status, old = api.post(
        f"/api/merchants/{merchant.pk}/price-lists",
        {
            **base,
            "name": "2026 list",
            "items": [{"service_id": hall_service.pk, "unit_price_fen": 2500}],
        },
    )
    assert status == 201, old
    status, season = api.post(
        f"/api/merchants/{merchant.pk}/price-lists",
        {
            "name": "Winter week",
            "valid_from": str(day),
            "valid_until": str(day + dt.timedelta(days=7)),
            "items": [{"service_id": hall_service.pk, "unit_price_fen": 3000}],
        },
    )
    assert status == 201, season
    # the slot is tomorrow: the winter list is the newest valid one
    assert book(customer, open_slot)["price_fen"] == 3000
    quote = api_for(customer).post(
        "/api/quotes",
        {"service_id": hall_service.pk, "starts_at": open_slot.starts_at.isoformat()},
    )[1]
    assert quote["total_fen"] == 3000
    assert quote["breakdown"][0] == {"item": "base", "fen": 3000, "price_list": "Winter week"}
    lists = api.get(f"/api/merchants/{merchant.pk}/price-lists")[1]
    assert [p["name"] for p in lists] == ["Winter week", "2026 list"]


def test_price_lists_are_checked_and_kept_to_managers(
    merchant, owner, hall_service, other_merchant
):
    from yuyue.catalog.models import Service

    foreign = Service.objects.create(merchant=other_merchant, name="x", kind="hall_slot")
    clerk = make_user("Clerk")
    MerchantStaff.objects.create(user=clerk, merchant=merchant, role=StaffRole.CLERK)
    day = str(local_today())
    good = {
        "name": "n",
        "valid_from": day,
        "items": [{"service_id": hall_service.pk, "unit_price_fen": 1}],
    }
    path = f"/api/merchants/{merchant.pk}/price-lists"
    status, problem = api_for(owner).post(
        path, {**good, "items": [{"service_id": foreign.pk, "unit_price_fen": 1}]}
    )
    assert (status, problem["code"]) == (404, "not_found")  # another merchant's service
    for bad in (
        {"items": [{"service_id": hall_service.pk, "unit_price_fen": -1}]},
        {"items": [{"service_id": hall_service.pk, "unit_price_fen": 1}] * 2},
        {"items": []},
        {"valid_until": "2000-01-01"},
        {"name": " "},
    ):
        status, problem = api_for(owner).post(path, {**good, **bad})
        assert status == 422, (bad, problem)
    status, problem = api_for(clerk).post(path, good)
    assert (status, problem["code"]) == (403, "forbidden")
