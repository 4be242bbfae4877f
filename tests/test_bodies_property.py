"""Any JSON value in any field of the bodies that book, pay and sign in: never a server error,
always valid JSON back, and a refusal writes nothing.

Hypothesis puts arbitrary values (NaN and the infinities as the bare tokens Python's json
writes, numbers past 64 bits, lone surrogates, NUL, deep nesting, wrong types) into one field at
a time of a valid body, or adds them as a field of their own.
"""

from __future__ import annotations

import datetime as dt
import json
import math

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import make_user
from yuyue.accounts.models import ApiToken, OneTimeCode, User
from yuyue.accounts.tokens import issue_token
from yuyue.billing.models import Payment
from yuyue.catalog.models import FieldType, FormField
from yuyue.orders.models import Booking, Participant, SlotUsage
from yuyue.scheduling.models import TimeSlot, WorkingHours

WATCHED = (Booking, Participant, SlotUsage, Payment, User, OneTimeCode, ApiToken)

leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=2**63 - 2, max_value=2**70),
    st.integers(min_value=-(2**70), max_value=-(2**63) + 2),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e308, -0.0]),
    st.text(),
    st.text(alphabet=st.characters(codec=None, categories=["Cs"]), min_size=1, max_size=3),
    st.sampled_from(["\x00", "a\ud800b", "\udfff", "=HYPERLINK(1)", "", " " * 3, "13800138000"]),
)
NASTY = [
    math.nan,
    math.inf,
    -math.inf,
    2**64,
    -(2**64),
    1e308,
    "a\ud800b",
    "\x00",
    True,
    None,
    [],
    {},
    "",
]
values = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def _nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


deep = st.integers(min_value=30, max_value=600).map(_nested)  # the API takes 32 levels


def _encode(body) -> str:
    """As a careless client would: NaN and infinities as bare tokens, surrogates escaped."""
    return json.dumps(body, allow_nan=True, ensure_ascii=True)


def _strict_json(content: bytes):
    def refuse(token):
        raise AssertionError(f"invalid JSON token {token} in an answer")

    return json.loads(content, parse_constant=refuse)


def _counts():
    return {model.__name__: model.objects.count() for model in WATCHED}


@pytest.fixture
def world(customer, hall_service, hall, provider, onsite_service, tomorrow_local):
    hall_service.per_user_limit = 10_000  # every example's booking is judged on its body
    hall_service.max_places_per_booking = 1000
    hall_service.save()
    FormField.objects.create(service=hall_service, key="name", label="Name", type=FieldType.TEXT)
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
    slot = TimeSlot.objects.create(
        service=hall_service,
        hall=hall,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        capacity=1000,
    )
    WorkingHours.objects.create(
        provider=provider, weekday=tomorrow_local.weekday(), start=dt.time(8), end=dt.time(20)
    )
    at = dt.datetime.combine(tomorrow_local, dt.time(10), tzinfo=dt.timezone(dt.timedelta(hours=8)))
    key, _ = issue_token(user=customer, via="password")
    booking = Booking.objects.create(
        customer=customer,
        merchant=hall_service.merchant,
        service=hall_service,
        slot=slot,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        price_fen=100,
        status="awaiting_payment",
        payment_status="unpaid",
        pay_before=timezone.now() + dt.timedelta(minutes=15),
    )
    user = make_user("Signer", password="s3cret-pass")
    return {
        "token": key,
        "bodies": {
            "/api/bookings": {
                "slot_id": slot.pk,
                "places": 1,
                "participants": [{"answers": {"name": "张三", "age": 30}}],
            },
            "/api/provider-bookings": {
                "service_id": onsite_service.pk,
                "provider_id": provider.pk,
                "address": "5 Ruijin Road",
                "starts_at": at.isoformat(),
            },
            "/api/payments": {"booking_id": booking.pk, "gateway": "sandbox"},
            f"/api/bookings/{booking.pk}/pay/wallet": {"points": 0},
            "/api/auth/login": {"phone": user.phone, "password": "s3cret-pass"},
            "/api/auth/register": {"phone": "13900139999", "password": "a-long-pass-1"},
            "/api/auth/otp": {"phone": "13900139998"},
            "/api/auth/otp/verify": {"phone": "13900139998", "code": "123456"},
        },
    }


PATHS = [
    "/api/bookings",
    "/api/provider-bookings",
    "/api/payments",
    "pay/wallet",
    "/api/auth/login",
    "/api/auth/register",
    "/api/auth/otp",
    "/api/auth/otp/verify",
]


def _nested_field(body: dict, pick: int) -> list:
    """The paths of every field of the body, nested ones included: [("slot_id",), ...]."""
    out = []

    def walk(node, path):
        if isinstance(node, dict):
            for k, v in node.items():
                out.append((*path, k))
                walk(v, (*path, k))
        elif isinstance(node, list):
            for i, v in enumerate(node):
                out.append((*path, i))
                walk(v, (*path, i))

    walk(body, ())
    return out[pick % len(out)] if out else ()


def _replace(body, path, value):
    if not path:
        return value
    body = json.loads(json.dumps(body))
    node = body
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return body


@pytest.mark.parametrize("which", PATHS)
@settings(
    max_examples=150,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    pick=st.integers(min_value=0, max_value=50),
    value=st.one_of(st.sampled_from(NASTY), values, deep),
    as_new_field=st.booleans(),
)
def test_any_value_in_any_field(world, which, pick, value, as_new_field):
    cache.clear()  # the throttling counts are not what this test is about
    path = next(p for p in world["bodies"] if p == which or p.endswith(which))
    body = world["bodies"][path]
    if as_new_field and pick % 5 == 0:  # now and then a field of its own
        body = {**body, "extra": value}
    else:
        body = _replace(body, _nested_field(body, pick), value)
    before = _counts()
    response = Client().post(
        path,
        _encode(body),
        content_type="application/json",
        headers={"Authorization": f"Bearer {world['token']}", "Accept-Language": "en"},
    )
    assert response.status_code < 500, (path, body, response.content[:500])
    answer = _strict_json(response.content)
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json"
        assert isinstance(answer.get("code"), str)
        assert _counts() == before, (path, body, answer)
