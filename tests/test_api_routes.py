"""Every path of the API is served by one router: ninja answers 405 to a method of a path that
another router registered first, so splitting routers by audience must keep each path whole."""

from __future__ import annotations

import collections

import pytest

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
            routed_404 = "json" in response.get("Content-Type", "")
            if response.status_code == 405 or (response.status_code == 404 and not routed_404):
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
