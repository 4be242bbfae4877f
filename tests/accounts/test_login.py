"""Signing up and in: password, one-time code, WeChat (against a real local HTTP server)."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.utils import timezone

from tests.conftest import api_for, make_user
from yuyue.accounts.models import ApiToken, MerchantStaff, OneTimeCode, StaffRole, User
from yuyue.core.models import AuditLog


def test_register_then_login(db):
    anon = api_for(None)
    status, body = anon.post(
        "/api/auth/register",
        {"phone": "138 0013 8000", "password": "long-enough-pw", "name": "Chen"},
    )
    assert status == 201, body
    assert body["user"]["phone"] == "+86138****8000" and body["user"]["roles"] == ["customer"]
    status, body = anon.post(
        "/api/auth/register", {"phone": "+8613800138000", "password": "long-enough-pw"}
    )
    assert (status, body["code"]) == (409, "phone_taken")
    status, body = anon.post(
        "/api/auth/login", {"phone": "13800138000", "password": "long-enough-pw"}
    )
    assert status == 200
    me = api_for(None)
    me.token = body["token"]
    assert me.get("/api/auth/me")[1]["name"] == "Chen"
    assert me.post("/api/auth/logout")[0] == 204
    assert me.get("/api/auth/me")[1]["code"] == "auth_required"


def test_phone_is_stored_encrypted(db):
    api_for(None).post("/api/auth/register", {"phone": "13800138000", "password": "long-enough-pw"})
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM accounts_user")
        assert "13800138000" not in cursor.fetchone()[0]


@pytest.mark.parametrize(
    "body,status,code",
    [
        ({"phone": "12345", "password": "long-enough-pw"}, 422, "invalid_phone"),
        (
            {"phone": "+86 10 6552 9988", "password": "long-enough-pw"},
            422,
            "invalid_phone",
        ),  # land line
        ({"phone": "13800138000", "password": "short"}, 422, "weak_password"),
        ({"phone": "13800138000"}, 422, "invalid_input"),
    ],
)
def test_bad_registrations(db, body, status, code):
    got_status, got = api_for(None).post("/api/auth/register", body)
    assert (got_status, got["code"]) == (status, code)
    assert not User.objects.exists()


def test_wrong_password_and_disabled(db):
    user = make_user(password="right-password")
    api = api_for(None)
    status, body = api.post("/api/auth/login", {"phone": user.phone, "password": "wrong-one!"})
    assert (status, body["code"]) == (401, "invalid_credentials")
    User.objects.filter(pk=user.pk).update(is_active=False)
    status, body = api.post("/api/auth/login", {"phone": user.phone, "password": "right-password"})
    assert (status, body["code"]) == (403, "account_disabled")


@pytest.fixture
def sent(caplog):
    caplog.set_level(logging.INFO, logger="yuyue.otp")

    def last_code():
        return [r.getMessage() for r in caplog.records if r.name == "yuyue.otp"][-1].split()[-1]

    return last_code


def test_code_login_creates_a_customer(db, sent, django_capture_on_commit_callbacks):
    api = api_for(None)
    with django_capture_on_commit_callbacks(execute=True):
        assert api.post("/api/auth/otp", {"phone": "13900139000"})[0] == 202
    code = sent()
    assert len(code) == 6
    assert code not in OneTimeCode.objects.get().code_hash  # only a keyed hash is kept
    status, body = api.post("/api/auth/otp/verify", {"phone": "13900139000", "code": code})
    assert status == 200 and body["user"]["roles"] == ["customer"]
    status, body = api.post("/api/auth/otp/verify", {"phone": "13900139000", "code": code})
    assert (status, body["code"]) == (401, "otp_invalid")  # single use


def test_code_resend_limit_expiry_and_attempts(
    db, sent, settings, django_capture_on_commit_callbacks
):
    api = api_for(None)
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/auth/otp", {"phone": "13900139000"})
    status, body = api.post("/api/auth/otp", {"phone": "13900139000"})
    assert (status, body["code"]) == (429, "otp_too_soon")
    code = sent()
    wrong = "000000" if code != "000000" else "111111"
    replies = [
        api.post("/api/auth/otp/verify", {"phone": "13900139000", "code": wrong})[1]["code"]
        for _ in range(settings.YUYUE_OTP_MAX_ATTEMPTS)
    ]
    assert replies[-1] == "otp_too_many_attempts" and replies[0] == "otp_invalid"
    status, body = api.post("/api/auth/otp/verify", {"phone": "13900139000", "code": code})
    assert (status, body["code"]) == (429, "otp_too_many_attempts")
    assert not ApiToken.objects.exists()
    OneTimeCode.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        api.post("/api/auth/otp", {"phone": "13900139000"})
    OneTimeCode.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    status, body = api.post("/api/auth/otp/verify", {"phone": "13900139000", "code": sent()})
    assert (status, body["code"]) == (401, "otp_invalid")


def test_wechat_login(db, wechat_server):
    api = api_for(None)
    status, first = api.post("/api/auth/wechat", {"code": "good-42"})
    assert status == 200, first
    status, again = api.post("/api/auth/wechat", {"code": "good-42"})
    assert again["user"]["id"] == first["user"]["id"]
    assert User.objects.get(pk=first["user"]["id"]).wx_openid == "o-42"
    status, body = api.post("/api/auth/wechat", {"code": "expired"})
    assert (status, body["code"]) == (401, "wechat_login_failed")
    assert "40029" in body["detail"]
    assert User.objects.count() == 1


def test_wechat_not_configured(db, settings):
    settings.WECHAT_APP_ID = settings.WECHAT_APP_SECRET = ""
    status, body = api_for(None).post("/api/auth/wechat", {"code": "good-1"})
    assert (status, body["code"]) == (409, "wechat_not_configured")
    assert not User.objects.exists()


def test_wechat_unreachable(db, settings):
    settings.WECHAT_API_BASE = "http://127.0.0.1:9"  # nothing listens there
    settings.WECHAT_APP_ID, settings.WECHAT_APP_SECRET = "wxdemo", "secret"
    status, body = api_for(None).post("/api/auth/wechat", {"code": "good-1"})
    assert (status, body["code"]) == (503, "wechat_unavailable")
    assert not User.objects.exists()


def test_operator_manages_people(operator, customer, merchant):
    ops = api_for(operator)
    status, found = ops.get("/api/ops/people", {"phone": customer.phone})
    assert status == 200 and [p["id"] for p in found] == [customer.pk]
    status, role = ops.post(
        f"/api/ops/people/{customer.pk}/staff-roles", {"merchant_id": merchant.pk, "role": "clerk"}
    )
    assert status == 200 and role["role"] == "clerk"
    status, prov = ops.post(
        f"/api/ops/people/{customer.pk}/provider", {"display_name": "Chen", "verified": True}
    )
    assert status == 201
    assert api_for(customer).get("/api/auth/me")[1]["roles"] == ["customer", "provider", "staff"]
    status, person = ops.post(f"/api/ops/people/{customer.pk}/active", {"active": False})
    assert status == 200 and person["is_active"] is False
    assert AuditLog.objects.filter(action="account.deactivate").exists()
    status, body = api_for(customer).get("/api/auth/me")
    assert (status, body["code"]) == (401, "auth_required")


def test_owner_grants_clerk_but_not_owner(owner, customer, merchant, other_merchant):
    api = api_for(owner)
    url = f"/api/ops/people/{customer.pk}/staff-roles"
    assert api.post(url, {"merchant_id": merchant.pk, "role": "clerk"})[0] == 200
    assert api.post(url, {"merchant_id": merchant.pk, "role": "owner"})[1]["code"] == "forbidden"
    assert (
        api.post(url, {"merchant_id": other_merchant.pk, "role": "clerk"})[1]["code"] == "forbidden"
    )
    assert api_for(customer).get("/api/ops/people")[1]["code"] == "forbidden"


def test_an_owner_cannot_strip_a_co_owner(owner, merchant, customer):
    co_owner = make_user("Co-owner")
    MerchantStaff.objects.create(user=co_owner, merchant=merchant, role=StaffRole.OWNER)
    api = api_for(owner)
    url = f"/api/ops/people/{co_owner.pk}/staff-roles"
    status, body = api.post(url, {"merchant_id": merchant.pk, "role": "clerk"})
    assert (status, body["code"]) == (403, "owner_role_protected")
    status, body = api.delete(f"{url}/{merchant.pk}")
    assert (status, body["code"]) == (403, "owner_role_protected")
    # the owner cannot step themselves down either; both are still owners
    status, body = api.post(
        f"/api/ops/people/{owner.pk}/staff-roles", {"merchant_id": merchant.pk, "role": "manager"}
    )
    assert (status, body["code"]) == (403, "owner_role_protected")
    assert set(MerchantStaff.objects.filter(merchant=merchant).values_list("user_id", "role")) == {
        (owner.pk, "owner"),
        (co_owner.pk, "owner"),
    }
    # a manager is given and taken by the owner as before, audited
    assert (
        api.post(
            f"/api/ops/people/{customer.pk}/staff-roles",
            {"merchant_id": merchant.pk, "role": "manager"},
        )[0]
        == 200
    )
    assert api.delete(f"/api/ops/people/{customer.pk}/staff-roles/{merchant.pk}")[0] == 204
    assert AuditLog.objects.filter(action="staff.revoke").count() == 1


def test_operators_change_owners_but_a_merchant_keeps_one(operator, owner, merchant):
    ops = api_for(operator)
    url = f"/api/ops/people/{owner.pk}/staff-roles"
    status, body = ops.post(url, {"merchant_id": merchant.pk, "role": "clerk"})
    assert (status, body["code"]) == (409, "last_owner")
    status, body = ops.delete(f"{url}/{merchant.pk}")
    assert (status, body["code"]) == (409, "last_owner")
    heir = make_user("Heir")
    assert (
        ops.post(
            f"/api/ops/people/{heir.pk}/staff-roles", {"merchant_id": merchant.pk, "role": "owner"}
        )[0]
        == 200
    )
    assert ops.post(url, {"merchant_id": merchant.pk, "role": "clerk"})[1]["role"] == "clerk"
    assert MerchantStaff.objects.get(user=owner, merchant=merchant).role == "clerk"


def test_people_endpoints_refuse_outsiders_before_looking_anyone_up(customer, owner, merchant):
    """A non-operator gets the same answer for an id that exists and one that does not."""
    api = api_for(customer)
    missing = 10**9
    for method, path, body in [
        ("post", "/api/ops/people/{}/active", {"active": False}),
        ("post", "/api/ops/people/{}/staff-roles", {"merchant_id": merchant.pk, "role": "clerk"}),
        ("delete", f"/api/ops/people/{{}}/staff-roles/{merchant.pk}", None),
        ("post", "/api/ops/people/{}/provider", {"display_name": "X"}),
    ]:
        answers = set()
        for user_id in (owner.pk, missing):
            args = (path.format(user_id),) + ((body,) if body is not None else ())
            status, reply = getattr(api, method)(*args)
            answers.add((status, reply["code"]))
        assert answers == {(403, "forbidden")}, (path, answers)
