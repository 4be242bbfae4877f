"""Throttling counts are shared by every web process when Redis is the cache.

Two gunicorn workers with REDIS_URL set: a storm of 30 wrong passwords for one phone gets
exactly 10 answers of `invalid_credentials` (the rate per account), wherever each request
landed. With each process's own memory as the cache, each worker would let its own 10 through.
"""

from __future__ import annotations

import json
import os

import pytest
import redis

from tests.conftest import make_user
from tests.livesrv import Call, LiveServer, current_database_url, storm

from .conftest import assert_clean, outcome

REDIS_URL = os.environ.get("YUYUE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture(scope="module")
def redis_server(django_db_setup, django_db_blocker):
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
        client.flushdb()  # this database number is the tests' own
    except redis.RedisError as exc:  # the shared cache is what this test is about: no skipping
        pytest.fail(f"Redis is not running at {REDIS_URL} ({exc}); start it (.ci/run does)")
    server = LiveServer(
        current_database_url(),
        env={
            "REDIS_URL": REDIS_URL,
            # only the per-account count: the address of every test client is 127.0.0.1
            "YUYUE_THROTTLE_RATES": json.dumps({"sign_in.client": ""}),
        },
    ).start()
    yield server
    server.stop()
    client.flushdb()


@pytest.mark.django_db(transaction=True)
def test_wrong_passwords_are_counted_once_across_processes(redis_server):
    user = make_user()
    calls = [
        Call("POST", "/api/auth/login", {"phone": user.phone, "password": f"guess-{i}"})
        for i in range(30)
    ]
    replies = storm(redis_server.url, calls)
    print(outcome(replies))
    assert_clean(replies, redis_server)
    counted = [r for r in replies if r.code == "invalid_credentials"]
    refused = [r for r in replies if r.code == "too_many_requests"]
    assert (len(counted), len(refused)) == (10, 20), outcome(replies)
    assert all(1 <= int(r.headers["retry-after"]) <= 900 for r in refused)
