"""Fixtures for the concurrency tests: real gunicorn servers on the test database, and people.

Every test here is `django_db(transaction=True)`: what it creates is committed, so the server
processes see it. The servers live for the whole session (starting gunicorn costs a second or
two); one runs with the guards, one with the naive writes of `unguarded.py`
(YUYUE_RACE_CONTROLS) for the controls.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterator, Sequence

import pytest
from django.db import connection, connections

from tests.conftest import make_user
from tests.engagement.conftest import paid_order  # noqa: F401 (after-sales races)
from tests.livesrv import LiveServer, Reply, current_database_url, summarize
from yuyue.accounts.tokens import issue_token

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
logging.getLogger("httpx").setLevel(logging.WARNING)  # one INFO line per request otherwise


def pytest_collection_modifyitems(items):
    """Everything here starts real servers: mark it `live` (deselect with -m "not live")."""
    for item in items:
        if "tests/concurrency/" in item.nodeid:
            item.add_marker(pytest.mark.live)


@pytest.fixture(scope="session")
def live_servers(django_db_setup, django_db_blocker) -> Iterator:
    """A factory: `live_servers(unguarded=False)` gives a started server, started once."""
    started: dict[bool, LiveServer] = {}

    def get(unguarded: bool = False) -> LiveServer:
        if unguarded not in started:
            started[unguarded] = LiveServer(current_database_url(), unguarded=unguarded).start()
        return started[unguarded]

    try:
        yield get
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture(autouse=True)
def _close_connections(transactional_db) -> Iterator[None]:
    """Close this process's connections before pytest-django flushes (PG must not wait on us)."""
    yield
    connections.close_all()


@pytest.fixture
def server(live_servers) -> LiveServer:
    return live_servers(unguarded=False)


@pytest.fixture
def unguarded_server(live_servers) -> LiveServer:
    return live_servers(unguarded=True)


@pytest.fixture
def vendor() -> str:
    return connection.vendor


def people_with_keys(n: int, name: str = "Customer") -> list[tuple]:
    """n new people, each with a bearer key: [(user, key), ...]."""
    out = []
    for i in range(n):
        user = make_user(f"{name} {i}")
        key, _ = issue_token(user=user, via="password")
        out.append((user, key))
    return out


def assert_clean(replies: Sequence[Reply], server: LiveServer) -> None:
    """Every call got an HTTP answer, none a 5xx, none mentions a locked database."""
    bad = [r for r in replies if r.status == 0 or r.status >= 500]
    locked = [r for r in replies if "database is locked" in r.text.lower()]
    assert not bad and not locked, (
        f"replies: {summarize(replies)}\n"
        f"first bad: {(bad or locked)[0].text[:2000]}\n"
        f"server output:\n{server.output()}"
    )


def outcome(replies: Sequence[Reply]) -> str:
    return str(summarize(replies))
