"""The task hall: publish, apply, pick — and everyone else is told."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from tests.conftest import api_for, make_user
from yuyue.catalog.models import Category
from yuyue.dispatch.models import Application, Need
from yuyue.orders.models import Booking
from yuyue.scheduling.models import ProviderReservation

from .conftest import HOME


@pytest.fixture
def category(onsite_service):
    cat = Category.objects.create(name="Cleaning", slug="cleaning")
    onsite_service.category = cat
    onsite_service.save()
    return cat


@pytest.fixture
def need(customer, category, crew, at_ten):
    status, body = api_for(customer).post(
        "/api/needs",
        {
            "category_id": category.pk,
            "title": "Spring cleaning",
            "starts_at": at_ten.isoformat(),
            "duration_minutes": 180,
            "address": "1 Nanjing Rd, flat 5",
            "lat": HOME[0],
            "lng": HOME[1],
            "budget_fen": 30000,
        },
    )
    assert status == 201, body
    return body


def test_apply_pick_and_the_others_are_told(
    need, crew, customer, caplog, django_capture_on_commit_callbacks
):
    caplog.set_level(logging.INFO, logger="yuyue.notify")
    apps = []
    for p, price in ((crew[0], 28000), (crew[1], 26000), (crew[2], 30000)):
        status, a = api_for(p.user).post(
            f"/api/provider/needs/{need['id']}/apply", {"price_fen": price, "message": "I can"}
        )
        assert status == 201, a
        apps.append(a)
    status, dup = api_for(crew[0].user).post(
        f"/api/provider/needs/{need['id']}/apply", {"price_fen": 1}
    )
    assert (status, dup["code"]) == (409, "already_applied")
    seen = api_for(crew[0].user).get(f"/api/needs/{need['id']}")[1]
    assert [a["provider_id"] for a in seen["applications"]] == [crew[0].pk]  # only their own
    assert len(api_for(customer).get(f"/api/needs/{need['id']}")[1]["applications"]) == 3
    with django_capture_on_commit_callbacks(execute=True):
        status, booking = api_for(customer).post(
            f"/api/needs/{need['id']}/pick", {"application_id": apps[1]["id"]}
        )
    assert status == 200, booking
    assert (booking["channel"], booking["provider_id"], booking["price_fen"]) == (
        "task_hall",
        crew[1].pk,
        26000,
    )
    assert booking["status"] == "awaiting_payment"
    assert ProviderReservation.objects.filter(provider=crew[1], active=True).count() == 1
    declined = [r.getMessage() for r in caplog.records if "need.declined" in r.getMessage()]
    assert {f"user={crew[0].user_id}", f"user={crew[2].user_id}"} == {
        m.split()[1] for m in declined
    }
    status, again = api_for(customer).post(
        f"/api/needs/{need['id']}/pick", {"application_id": apps[0]["id"]}
    )
    assert status == 404 or again["code"] == "need_closed"
    assert Booking.objects.count() == 1


def test_only_qualified_providers_apply(need, crew, merchant):
    crew[2].services.clear()
    status, body = api_for(crew[2].user).post(
        f"/api/provider/needs/{need['id']}/apply", {"price_fen": 100}
    )
    assert (status, body["code"]) == (409, "provider_unqualified")
    assert [n["need"]["id"] for n in api_for(crew[0].user).get("/api/provider/needs")[1]] == [
        need["id"]
    ]
    assert api_for(crew[2].user).get("/api/provider/needs")[1] == []
    assert not Application.objects.exists()


def test_strangers_and_bad_needs(need, other_customer, customer, category, at_ten):
    status, body = api_for(other_customer).get(f"/api/needs/{need['id']}")
    assert (status, body["code"]) == (404, "not_found")
    base = {
        "category_id": category.pk,
        "title": "x",
        "starts_at": at_ten.isoformat(),
        "address": "x",
        "lat": HOME[0],
        "lng": HOME[1],
        "budget_fen": 100,
    }
    past = (at_ten - dt.timedelta(days=3)).isoformat()
    for change, code in [
        ({"budget_fen": 0}, "invalid_input"),
        ({"budget_fen": -5}, "invalid_input"),
        ({"budget_fen": 10**12}, "invalid_amount"),
        ({"starts_at": past}, "time_past"),
        # a time with no zone names no one moment: bad input, not "already passed"
        ({"starts_at": at_ten.replace(tzinfo=None).isoformat()}, "invalid_input"),
        ({"category_id": 999999}, "not_found"),
    ]:
        status, body = api_for(customer).post("/api/needs", {**base, **change})
        assert body["code"] == code, (change, body)
        assert 400 <= status < 500
    assert Need.objects.count() == 1


def test_cancel_need(need, customer, crew):
    status, body = api_for(customer).post(f"/api/needs/{need['id']}/cancel")
    assert status == 200 and body["status"] == "cancelled"
    status, body = api_for(crew[0].user).post(
        f"/api/provider/needs/{need['id']}/apply", {"price_fen": 100}
    )
    assert (status, body["code"]) == (409, "need_closed")


def test_a_retried_need_with_its_idempotency_key_is_published_once(customer, category, at_ten):
    me = api_for(customer)
    body = {
        "category_id": category.pk,
        "title": "Windows",
        "starts_at": at_ten.isoformat(),
        "duration_minutes": 60,
        "address": "1 Nanjing Rd, flat 5",
        "lat": HOME[0],
        "lng": HOME[1],
        "budget_fen": 10000,
    }
    key = {"Idempotency-Key": "need-1"}
    status, first = me.post("/api/needs", body, headers=key)
    assert status == 201, first
    status, again = me.post("/api/needs", body, headers=key)
    assert status == 201 and again == first
    assert Need.objects.filter(customer=customer).count() == 1

    status, problem = me.post("/api/needs", {**body, "budget_fen": 20000}, headers=key)
    assert (status, problem["code"]) == (422, "idempotency_key_reused")
    status, problem = me.post("/api/needs", body, headers={"Idempotency-Key": "k" * 101})
    assert (status, problem["code"]) == (422, "idempotency_key_invalid")
    assert Need.objects.filter(customer=customer).count() == 1
    # another customer's key of the same name is theirs alone
    status, other = api_for(make_user("Customer Zhou")).post("/api/needs", body, headers=key)
    assert status == 201 and other["id"] != first["id"]
