"""Throttling of signing in and of one-time codes, per account and per client address.

Rates are the settings' own (10 passwords per phone and 50 per address in 15 minutes, 5 codes per
phone and 20 per address in an hour, 10 code checks per phone). A refusal is a 429 problem with
`too_many_requests` and `Retry-After`, audited once per window, and the right password is refused
too while the lock lasts.
"""

from __future__ import annotations

import pytest

from tests.conftest import Api, make_user, next_phone
from yuyue.accounts.models import ApiToken, OneTimeCode
from yuyue.core.models import AuditLog


def _login(api, phone, password):
    return api.post("/api/auth/login", {"phone": phone, "password": password})


def test_wrong_passwords_lock_the_account_then_even_the_right_one_waits(db):
    user = make_user()
    api = Api()
    answers = [_login(api, user.phone, f"wrong-{i}")[1]["code"] for i in range(10)]
    assert answers == ["invalid_credentials"] * 10
    response = api.client.post(
        "/api/auth/login",
        {"phone": user.phone, "password": "s3cret-pass"},
        content_type="application/json",
    )
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "too_many_requests"
    assert 1 <= int(response["Retry-After"]) <= 15 * 60
    assert response["Content-Type"] == "application/problem+json"
    assert not ApiToken.objects.exists()
    # from another address the account is locked all the same
    assert _login(Api(address="10.9.8.7"), user.phone, "s3cret-pass")[1]["code"] == (
        "too_many_requests"
    )
    lockouts = AuditLog.objects.filter(action="throttle.lockout")
    assert lockouts.count() == 1  # the first refusal of the window, not each one
    assert lockouts.get().data["scope"] == "sign_in" and lockouts.get().data["by"] == "account"
    assert user.phone not in str(lockouts.get().data)  # no phone number in the audit trail
    # another person signs in normally meanwhile
    other = make_user()
    assert _login(api, other.phone, "s3cret-pass")[0] == 200


def test_spraying_many_accounts_from_one_address_is_stopped(db):
    api = Api(address="203.0.113.5")
    people = [make_user() for _ in range(10)]
    answers = [_login(api, people[i % 10].phone, f"Spring2026-{i}")[1]["code"] for i in range(51)]
    assert answers[:50] == ["invalid_credentials"] * 50  # 5 or 6 per phone: none locked
    assert answers[50] == "too_many_requests"
    assert _login(api, people[0].phone, "s3cret-pass")[1]["code"] == "too_many_requests"
    # a neighbour on another address is not affected
    assert _login(Api(address="203.0.113.6"), people[0].phone, "s3cret-pass")[0] == 200


def test_ipv6_clients_count_by_their_64_network(db):
    user = make_user()
    for i in range(50):
        _login(Api(address=f"2001:db8:1:2::{i + 1:x}"), next_phone(), "nope-nope")
    status, body = _login(Api(address="2001:db8:1:2::ffff"), user.phone, "s3cret-pass")
    assert (status, body["code"]) == (429, "too_many_requests")
    assert _login(Api(address="2001:db8:1:3::1"), user.phone, "s3cret-pass")[0] == 200


def test_the_proxys_address_header_is_used_only_when_configured(db, settings):
    user = make_user()
    for i in range(50):
        Api().post(
            "/api/auth/login",
            {"phone": next_phone(), "password": "nope-nope"},
            headers={"X-Real-IP": f"198.51.100.{i}"},
        )
    # not configured: all came from 127.0.0.1, whatever the header said
    assert _login(Api(), user.phone, "s3cret-pass")[1]["code"] == "too_many_requests"
    settings.YUYUE_CLIENT_ADDRESS_HEADER = "X-Real-IP"
    status, _ = Api().post(
        "/api/auth/login",
        {"phone": user.phone, "password": "s3cret-pass"},
        headers={"X-Real-IP": "198.51.100.200"},
    )
    assert status == 200


@pytest.fixture
def no_resend_wait(settings):
    settings.YUYUE_OTP_RESEND_SECONDS = 0


def test_codes_sent_to_one_phone_and_from_one_address_are_limited(db, no_resend_wait):
    api = Api(address="192.0.2.1")
    phone = next_phone()
    answers = [api.post("/api/auth/otp", {"phone": phone})[0] for _ in range(6)]
    assert answers == [202] * 5 + [429]
    assert OneTimeCode.objects.count() == 5  # the refused one wrote nothing
    # 15 more phones from this address (20 in all), then the 21st is refused
    answers = [api.post("/api/auth/otp", {"phone": next_phone()})[0] for _ in range(16)]
    assert answers == [202] * 15 + [429]
    assert OneTimeCode.objects.count() == 20
    assert Api(address="192.0.2.2").post("/api/auth/otp", {"phone": next_phone()})[0] == 202


def test_code_checks_for_one_phone_are_limited_across_new_codes(db, no_resend_wait):
    api = Api()
    phone = next_phone()
    answers = []
    for _ in range(3):  # a new code after every 4 wrong tries keeps the per-code limit away
        assert api.post("/api/auth/otp", {"phone": phone})[0] == 202
        answers += [
            api.post("/api/auth/otp/verify", {"phone": phone, "code": "999999"})[1]["code"]
            for _ in range(4)
        ]
    assert answers[:10] == ["otp_invalid"] * 10
    assert answers[10:] == ["too_many_requests"] * 2
