"""Catalog: customers browse; managers set up services and forms; operators approve merchants."""

from __future__ import annotations

import pytest

from tests.conftest import api_for
from yuyue.catalog.forms import valid_id_number
from yuyue.catalog.models import Merchant, MerchantStatus, Service
from yuyue.core.models import AuditLog


def test_browse_only_active_merchants_and_services(merchant, other_merchant, hall_service, hall):
    Merchant.objects.filter(pk=other_merchant.pk).update(status=MerchantStatus.PENDING)
    Service.objects.create(merchant=merchant, name="Retired", kind="hall_slot", active=False)
    anon = api_for(None)
    status, merchants = anon.get("/api/merchants")
    assert status == 200 and [m["slug"] for m in merchants] == ["sunrise"]
    status, detail = anon.get(f"/api/merchants/{merchant.pk}")
    assert [h["name"] for h in detail["halls"]] == ["Hall A"]
    assert anon.get(f"/api/merchants/{other_merchant.pk}")[1]["code"] == "not_found"
    status, services = anon.get("/api/services", {"merchant_id": merchant.pk})
    assert [s["name"] for s in services] == ["Passport photo"]
    assert anon.get("/api/services", {"kind": "bogus"})[0] == 422


def test_manager_creates_service_with_form(owner, merchant):
    api = api_for(owner)
    status, service = api.post(
        f"/api/merchants/{merchant.pk}/services",
        {
            "name": "Museum entry",
            "kind": "hall_slot",
            "duration_minutes": 60,
            "base_price_fen": 3000,
            "per_user_limit": 2,
            "cancel_policy": "any_time",
        },
    )
    assert status == 201, service
    status, fields = api.put(
        f"/api/merchants/{merchant.pk}/services/{service['id']}/form",
        [
            {"key": "name", "label": "姓名", "type": "text"},
            {"key": "id_number", "label": "身份证号", "type": "id_number"},
            {"key": "ticket", "label": "Ticket", "type": "choice", "choices": ["adult", "child"]},
        ],
    )
    assert status == 200 and [f["key"] for f in fields] == ["name", "id_number", "ticket"]
    status, public = api_for(None).get(f"/api/services/{service['id']}")
    assert [f["label"] for f in public["form_fields"]] == ["姓名", "身份证号", "Ticket"]
    assert AuditLog.objects.filter(action="service.form").exists()


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "kind": "teleport"},
        {"name": "", "kind": "hall_slot"},
        {"name": "x", "kind": "hall_slot", "base_price_fen": -1},
        {"name": "x", "kind": "hall_slot", "base_price_fen": 1.5},
        {"name": "x", "kind": "hall_slot", "duration_minutes": 0},
    ],
)
def test_bad_service_input(owner, merchant, body):
    status, problem = api_for(owner).post(f"/api/merchants/{merchant.pk}/services", body)
    assert (status, problem["code"]) == (422, "invalid_input")
    assert not Service.objects.exists()


def test_bad_form_definition(owner, merchant, hall_service):
    url = f"/api/merchants/{merchant.pk}/services/{hall_service.pk}/form"
    status, problem = api_for(owner).put(url, [{"key": "t", "label": "T", "type": "choice"}])
    assert (status, problem["code"]) == (422, "invalid_input")
    status, problem = api_for(owner).put(
        url,
        [{"key": "a", "label": "A", "type": "text"}, {"key": "a", "label": "B", "type": "text"}],
    )
    assert (status, problem["code"]) == (422, "invalid_input")


def test_clerk_cannot_change_services(clerk, merchant, hall_service):
    status, problem = api_for(clerk).patch(
        f"/api/merchants/{merchant.pk}/services/{hall_service.pk}", {"base_price_fen": 1}
    )
    assert (status, problem["code"]) == (403, "forbidden")
    hall_service.refresh_from_db()
    assert hall_service.base_price_fen == 0


def test_operator_creates_and_approves_merchant(operator, customer):
    ops = api_for(operator)
    status, m = ops.post("/api/ops/merchants", {"name": "New Salon", "slug": "new-salon"})
    assert status == 201 and m["status"] == "pending"
    assert api_for(None).get(f"/api/merchants/{m['id']}")[0] == 404
    status, m = ops.post(f"/api/ops/merchants/{m['id']}/status", {"status": "active"})
    assert status == 200 and m["status"] == "active"
    assert api_for(None).get(f"/api/merchants/{m['id']}")[0] == 200
    status, problem = api_for(customer).post("/api/ops/merchants", {"name": "X", "slug": "x"})
    assert (status, problem["code"]) == (403, "forbidden")
    status, problem = ops.post(
        "/api/ops/merchants", {"name": "Y", "slug": "y", "timezone": "Mars/Olympus"}
    )
    assert (status, problem["code"]) == (422, "invalid_timezone")


@pytest.mark.parametrize(
    "number,ok",
    [
        ("11010519491231002X", True),
        ("110105194912310021", False),  # wrong check digit
        ("110105194902300028", False),  # 30 February
        ("11010519491231002", False),  # 17 characters
        ("1101051949123100XX", False),
    ],
)
def test_id_number_checksum(number, ok):
    assert valid_id_number(number) is ok


def test_a_patch_with_null_for_a_required_field_is_refused(owner, merchant, hall, hall_service):
    api = api_for(owner)
    url = f"/api/merchants/{merchant.pk}/halls/{hall.pk}"
    status, body = api.patch(url, {"address": None})
    assert (status, body["code"]) == (422, "invalid_input")
    assert "address cannot be null" in str(body["errors"])
    status, body = api.patch(url, {"lat": None, "lng": None})  # a location can be cleared
    assert status == 200 and body["lat"] is None
    status, body = api.patch(
        f"/api/merchants/{merchant.pk}/services/{hall_service.pk}", {"description": None}
    )
    assert (status, body["code"]) == (422, "invalid_input")
    hall.refresh_from_db()
    assert hall.address is not None


def test_an_operator_asking_for_a_missing_merchants_slots_gets_not_found(operator):
    status, body = api_for(operator).get("/api/merchants/999999/slots", {"date_from": "2026-12-01"})
    assert (status, body["code"]) == (404, "not_found")
