"""Every path of the API is served by one router: ninja answers 405 to a method of a path that
another router registered first, so splitting routers by audience must keep each path whole."""

from __future__ import annotations

import collections
import datetime as dt

import pytest
from django.urls import Resolver404, resolve
from django.utils import timezone

from tests.conftest import api_for


def test_no_path_is_split_across_routers():
    from yuyue.api import api

    routers = collections.defaultdict(set)
    for prefix, router in api._routers:
        for path in router.path_operations:
            routers[prefix.rstrip("/") + "/" + path.lstrip("/")].add(id(router))
    assert [p for p, r in routers.items() if len(r) > 1] == []


@pytest.mark.django_db
def test_every_documented_method_is_routed(customer):
    """Each operation of the OpenAPI document reaches its view: never 405, nor the URL
    resolver's 404 page, whatever the view then answers to a made-up request."""
    from yuyue.api import api

    client = api_for(customer)
    wrong = []
    for path, methods in api.get_openapi_schema()["paths"].items():
        for method in methods:
            response = client.client.generic(
                method.upper(),
                _concrete(path),
                "{}",
                content_type="application/json",
                headers=client._headers(),
            )
            try:
                resolve(_concrete(path))
                routed = True
            except Resolver404:
                routed = False
            if response.status_code == 405 or not routed:
                wrong.append((method, path, response.status_code))
    assert wrong == []


def _concrete(path: str) -> str:
    """The path with every parameter filled in (a number, or a word for string parameters)."""
    out = []
    for part in path.split("/"):
        if part.startswith("{") and part.endswith("}"):
            name = part[1:-1].split(":")[-1]
            out.append("x" if name in ("gateway", "out_trade_no", "code") else "999999")
        else:
            out.append(part)
    return "/".join(out)


@pytest.mark.django_db
def test_operators_endpoints_tell_outsiders_nothing_about_ids(customer, merchant, owner):
    """Every operators' operation answers a customer (and a merchant's owner) `forbidden`, for
    ids that exist and ids that do not alike: the refusal comes before any lookup. The staff
    roles, which owners also give, and the dispatch desk, which managers also use, keep their
    own rules (tests in accounts and dispatch)."""
    from yuyue.api import api

    shared = {"/api/ops/people/{user_id}/staff-roles", "/api/ops/dispatch/queue"}
    shared |= {"/api/ops/people/{user_id}/staff-roles/{merchant_id}"}
    shared |= {"/api/ops/orders/{booking_id}/assign", "/api/ops/orders/{booking_id}/reassign"}
    leaks = []
    for who in (customer, owner):
        client = api_for(who)
        for path, methods in api.get_openapi_schema()["paths"].items():
            if not path.startswith("/api/ops/") or path in shared:
                continue
            for method in methods:
                answers = set()
                for known in (True, False):
                    filled = path.replace("{day}", "2026-12-01")
                    for name in (
                        "user_id",
                        "merchant_id",
                        "booking_id",
                        "withdrawal_id",
                        "provider_id",
                    ):
                        filled = filled.replace("{" + name + "}", str(owner.pk if known else 10**9))
                    for name in ("level_id", "plan_id", "payment_id"):
                        filled = filled.replace("{" + name + "}", "1" if known else "999999999")
                    response = client.client.generic(
                        method.upper(),
                        filled,
                        "{}",
                        content_type="application/json",
                        headers=client._headers(),
                    )
                    answers.add((response.status_code, response.json().get("code")))
                if answers != {(403, "forbidden")}:
                    leaks.append((who.name, method, path, answers))
    assert leaks == []


@pytest.mark.django_db
def test_dispatching_another_merchants_order_is_not_found_like_a_missing_one(
    owner, other_merchant, onsite_service, customer
):
    from yuyue.accounts.models import MerchantStaff, StaffRole
    from yuyue.orders.models import Booking

    theirs = Booking.objects.create(
        customer=customer,
        merchant=other_merchant,
        service=onsite_service,
        starts_at=timezone.now() + dt.timedelta(days=1),
        ends_at=timezone.now() + dt.timedelta(days=1, hours=1),
        channel="dispatch",
    )
    api = api_for(owner)
    body = {"provider_id": 1, "reason": "x"}
    for path in ("assign",):
        a = api.post(f"/api/ops/orders/{theirs.pk}/{path}", body)
        b = api.post(f"/api/ops/orders/{10**9}/{path}", body)
        assert (a[0], a[1]["code"]) == (b[0], b[1]["code"]) == (404, "not_found")
    # someone who dispatches for no merchant is refused outright
    MerchantStaff.objects.filter(user=owner).update(role=StaffRole.CLERK)
    a = api.post(f"/api/ops/orders/{theirs.pk}/assign", body)
    assert (a[0], a[1]["code"]) == (403, "forbidden")


def test_every_schema_has_a_name_of_its_own():
    """ninja names an OpenAPI component after its class: two request or answer shapes of the same
    name silently become one in the document (a fuzzer then sends one endpoint the other's body)."""
    import collections

    from ninja import Schema

    import yuyue.api  # noqa: F401 - every part's routers imported

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = [c for c in subclasses(Schema) if c.__module__.startswith("yuyue.")]
    names = collections.Counter(c.__name__ for c in ours)
    assert [n for n, k in names.items() if k > 1] == []
