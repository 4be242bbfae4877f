"""Shared fixtures: people with roles, a demo-sized merchant, and an API client with a token."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from http.server import HTTPServer
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client
from django.utils import timezone
from playwright.sync_api import sync_playwright

from tests.browser import _Shared, launch
from tests.standins import JsonStandIn
from yuyue.accounts.models import MerchantStaff, Provider, StaffRole, User
from yuyue.accounts.tokens import issue_token
from yuyue.catalog.models import Hall, Merchant, MerchantStatus, Service, ServiceKind

_phone_counter = iter(range(10_000_000))


@pytest.fixture(scope="session")
def playwright_running():
    """The run's Playwright (started at the first page test, stopped at the end of the run)."""
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    _Shared.playwright = sync_playwright().start()
    try:
        yield _Shared.playwright
    finally:
        if _Shared.browser is not None:
            _Shared.browser.close()
        _Shared.playwright.stop()
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def chromium(playwright_running):
    """The run's headless browser, shared by the page tests (one launch, not one a test); each
    test's contexts are closed after it."""
    if _Shared.browser is None or not _Shared.browser.is_connected():
        _Shared.browser = launch(playwright_running)
    browser = _Shared.browser
    yield browser
    for context in browser.contexts:
        context.close()


PAGE_FIXTURES = {"chromium", "playwright_running"}


def pytest_collection_modifyitems(config, items):
    """Tests that drive the browser are marked `browser` and run last, in their order: they
    share one Playwright whose event loop, once started, runs in this thread until the end
    (tests/web/conftest.py)."""
    for item in items:
        if PAGE_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.browser)
    items.sort(key=lambda item: item.get_closest_marker("browser") is not None)


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    """Each test starts with no tries counted (the throttling counters live in the cache)."""
    from django.core.cache import cache

    cache.clear()


_documented: dict[str, set[str]] = {}


@pytest.fixture(autouse=True)
def refusals_are_documented(monkeypatch):
    """Every refusal a test provokes through the API is one the OpenAPI document lists for that
    operation (yuyue.api.refusals finds the lists by reading the code; this holds them to what
    the API really answers, over the whole suite)."""
    import yuyue.api as api_module

    answered = api_module._problem_response
    seen: list[tuple[str, str]] = []

    def spied(request, body, status):
        operation = getattr(request, "operation_id", None)
        if operation is not None:
            seen.append((operation, body["code"]))
        return answered(request, body, status)

    monkeypatch.setattr(api_module, "_problem_response", spied)
    yield
    if seen and not _documented:
        _documented.update(api_module.documented_codes())
    missing = sorted({(op, code) for op, code in seen if code not in _documented[op]})
    assert not missing, f"refusals the OpenAPI document does not list: {missing}"


@pytest.fixture
def amap(settings):
    """AMap's geocoding served locally (tests.standins.FakeAmap), its base URL and key set."""
    from http.server import ThreadingHTTPServer

    from tests.standins import FakeAmap

    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeAmap)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    settings.AMAP_API_BASE = f"http://127.0.0.1:{server.server_port}"
    settings.AMAP_KEY = "k-test"
    yield server
    server.shutdown()


def next_phone() -> str:
    return f"+86139{next(_phone_counter):08d}"


class Api:
    """A JSON client for /api that sends a bearer token and returns (status, body)."""

    def __init__(self, token: str | None = None, language: str = "en", address: str = "127.0.0.1"):
        self.client = Client(REMOTE_ADDR=address)
        self.token = token
        self.language = language

    def _headers(self, extra: dict | None = None) -> dict:
        headers = {"Accept-Language": self.language}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        headers.update(extra or {})
        return headers

    def _decode(self, response):
        if "json" in response.get("Content-Type", ""):
            return response.status_code, json.loads(response.content or b"null")
        return response.status_code, response.content

    def get(self, path, params=None, headers=None):
        return self._decode(self.client.get(path, params or {}, headers=self._headers(headers)))

    def post(self, path, body=None, headers=None):
        return self._decode(
            self.client.post(
                path,
                json.dumps(body if body is not None else {}),
                content_type="application/json",
                headers=self._headers(headers),
            )
        )

    def put(self, path, body=None, headers=None):
        return self._decode(
            self.client.put(
                path,
                json.dumps(body if body is not None else {}),
                content_type="application/json",
                headers=self._headers(headers),
            )
        )

    def patch(self, path, body=None, headers=None):
        return self._decode(
            self.client.patch(
                path,
                json.dumps(body if body is not None else {}),
                content_type="application/json",
                headers=self._headers(headers),
            )
        )

    def delete(self, path, headers=None):
        return self._decode(self.client.delete(path, headers=self._headers(headers)))


def make_user(name="someone", password="s3cret-pass", **extra) -> User:
    return User.objects.create_user(phone=next_phone(), password=password, name=name, **extra)


def api_for(user: User | None, language: str = "en") -> Api:
    if user is None:
        return Api(language=language)
    key, _ = issue_token(user=user, via="password")
    return Api(key, language=language)


@pytest.fixture
def customer(db) -> User:
    return make_user("Customer Chen")


@pytest.fixture
def other_customer(db) -> User:
    return make_user("Customer Li")


@pytest.fixture
def operator(db) -> User:
    return make_user("Operator Wang", is_operator=True, is_staff=True)


@pytest.fixture
def merchant(db) -> Merchant:
    return Merchant.objects.create(
        name="Sunrise Hall",
        slug="sunrise",
        status=MerchantStatus.ACTIVE,
        timezone="Asia/Shanghai",
        address="1 Century Ave, Shanghai",
    )


@pytest.fixture
def other_merchant(db) -> Merchant:
    return Merchant.objects.create(name="Moon Hall", slug="moon", status=MerchantStatus.ACTIVE)


@pytest.fixture
def owner(merchant) -> User:
    user = make_user("Owner Zhao")
    MerchantStaff.objects.create(user=user, merchant=merchant, role=StaffRole.OWNER)
    return user


@pytest.fixture
def clerk(merchant) -> User:
    user = make_user("Clerk Sun")
    MerchantStaff.objects.create(user=user, merchant=merchant, role=StaffRole.CLERK)
    return user


@pytest.fixture
def hall(merchant) -> Hall:
    return Hall.objects.create(merchant=merchant, name="Hall A")


@pytest.fixture
def hall_service(merchant) -> Service:
    return Service.objects.create(
        merchant=merchant,
        name="Passport photo",
        kind=ServiceKind.HALL_SLOT,
        duration_minutes=60,
        base_price_fen=0,
    )


@pytest.fixture
def onsite_service(merchant) -> Service:
    return Service.objects.create(
        merchant=merchant,
        name="Home cleaning",
        kind=ServiceKind.ON_SITE,
        duration_minutes=120,
        base_price_fen=12000,
        buffer_minutes=30,
        step_minutes=30,
    )


@pytest.fixture
def provider(merchant, onsite_service) -> Provider:
    user = make_user("Provider Liu")
    p = Provider.objects.create(
        user=user,
        merchant=merchant,
        display_name="Liu",
        verified=True,
        lat=31.23,
        lng=121.47,
        service_radius_km=15,
    )
    p.services.add(onsite_service)
    return p


@pytest.fixture
def tomorrow_local():
    """Tomorrow's date in Shanghai."""
    return (
        timezone.now().astimezone(dt.timezone(dt.timedelta(hours=8))) + dt.timedelta(days=1)
    ).date()


class FakeWechat(JsonStandIn):
    """A local jscode2session endpoint: code 'good-N' → openid 'o-N'; anything else errors."""

    def do_GET(self):  # noqa: N802
        query = parse_qs(urlparse(self.path).query)
        code = query.get("js_code", [""])[0]
        if urlparse(self.path).path != "/sns/jscode2session" or query.get("appid") != ["wxdemo"]:
            body = {"errcode": 40013, "errmsg": "invalid appid"}
        elif code.startswith("good-"):
            body = {"openid": "o-" + code[5:], "session_key": "sk"}
        else:
            body = {"errcode": 40029, "errmsg": "invalid code"}
        self.reply(body)


@pytest.fixture
def wechat_server(settings):
    server = HTTPServer(("127.0.0.1", 0), FakeWechat)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    settings.WECHAT_API_BASE = f"http://127.0.0.1:{server.server_port}"
    settings.WECHAT_APP_ID = "wxdemo"
    settings.WECHAT_APP_SECRET = "secret"
    yield server
    server.shutdown()
