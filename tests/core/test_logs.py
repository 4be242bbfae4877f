"""Every log line of a request says which request, whose, about which merchant, which operation
and which refusal: as JSON fields in production (a log collector indexes them), with the
request's id sent back to the client (and taken from the proxy's X-Request-ID)."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys

import pytest
from django.test import Client

from tests.conftest import api_for
from tests.core.test_production_settings import PROJECT, _documented, _manage
from yuyue.accounts.tokens import issue_token
from yuyue.core.logs import RequestFields, UtcJsonFormatter


@pytest.fixture
def json_lines():
    """The JSON lines the request logger writes (the production formatter and filter)."""
    from django.conf import settings

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    spec = dict(settings.LOGGING["formatters"]["json"])
    spec.pop("()")
    handler.setFormatter(UtcJsonFormatter(**spec))
    handler.addFilter(RequestFields())
    logger = logging.getLogger("django.request")
    logger.addHandler(handler)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    logger.removeHandler(handler)


@pytest.mark.django_db
def test_a_refusal_is_logged_with_its_request_user_merchant_operation_and_code(
    customer, merchant, json_lines
):
    token = issue_token(user=customer, via="password")[0]
    answer = Client().get(
        f"/api/merchants/{merchant.pk}/bookings",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        HTTP_X_REQUEST_ID="req-42",
    )
    assert answer.status_code == 403
    assert answer["X-Request-ID"] == "req-42"  # the proxy's id, sent back
    [line] = json_lines()
    assert line["level"] == "WARNING" and line["logger"] == "django.request"
    assert line["time"].endswith("Z")
    assert {k: line[k] for k in ("request_id", "user_id", "merchant_id", "code")} == {
        "request_id": "req-42",
        "user_id": customer.pk,
        "merchant_id": merchant.pk,
        "code": "forbidden",
    }
    assert line["operation"] == answer.wsgi_request.operation_id
    assert line["operation"].isidentifier()


@pytest.mark.django_db
def test_a_merchant_id_that_is_no_number_is_logged_as_none(customer, json_lines):
    """ "¹" is a digit to str.isdigit(), not a number (found by the fuzz): the request is
    refused, and its log line says no merchant instead of the logger failing."""
    token = issue_token(user=customer, via="password")[0]
    answer = Client().get("/api/merchants/%C2%B9/bookings", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert answer.status_code in (404, 422)
    [line] = json_lines()
    assert line["merchant_id"] is None and line["user_id"] == customer.pk


@pytest.mark.django_db
def test_an_unusable_request_id_is_replaced(json_lines):
    answer = Client().get("/api/no-such-thing", HTTP_X_REQUEST_ID="two words " + "x" * 80)
    given = answer["X-Request-ID"]
    assert len(given) == 32 and " " not in given  # a fresh one
    status, _ = api_for(None).get("/api/merchants")
    assert status == 200  # a request that logs nothing still gets an id back


def test_production_logs_json_and_development_plain_text():
    code = (
        "import logging, django; django.setup(); "
        "logging.getLogger('yuyue.probe').warning('hello %s', 'there')"
    )

    def run(**env):
        base = {"DJANGO_SETTINGS_MODULE": "yuyue.settings", **env}
        done = _manage("check", **base)  # the settings load
        assert done.returncode == 0, done.stderr
        return subprocess.run(
            [sys.executable, "-c", code],
            env={**_manage_env(), **base},
            capture_output=True,
            text=True,
            timeout=60,
            cwd=PROJECT / "src",
        ).stderr.strip()

    line = run(**_documented())
    said = json.loads(line)
    assert said["message"] == "hello there" and said["level"] == "WARNING"
    assert said["request_id"] is None  # not within a request
    plain = run()
    assert plain.endswith("WARNING yuyue.probe hello there") and not plain.startswith("{")


def _manage_env() -> dict:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith(("YUYUE_", "SECRET_KEY"))}
    for name in ("FIELD_ENCRYPTION_KEY", "DATABASE_URL", "REDIS_URL", "DEBUG", "LOG_FORMAT"):
        env.pop(name, None)
    env["YUYUE_VAR_DIR"] = str(PROJECT / "var")
    return env
