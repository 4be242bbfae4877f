"""Property-based requests built from our own OpenAPI document: whatever a client sends,
the API answers with a documented refusal or a success, never a 500."""

from __future__ import annotations

import datetime as dt

import pytest
import schemathesis
from django.utils import timezone
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from tests.conftest import make_user
from yuyue.accounts.models import MerchantStaff, StaffRole
from yuyue.accounts.tokens import issue_token
from yuyue.catalog.models import Hall, Merchant, MerchantStatus, Service
from yuyue.scheduling.models import TimeSlot
from yuyue.wsgi import application

schema = schemathesis.openapi.from_wsgi("/api/openapi.json", application)


@pytest.fixture
def keep_connection():
    """Like Django's test client: the request must not close the test's database connection."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def owner_token(db, keep_connection, wechat_server):
    merchant = Merchant.objects.create(name="Fuzz", slug="fuzz", status=MerchantStatus.ACTIVE)
    hall = Hall.objects.create(merchant=merchant, name="H")
    service = Service.objects.create(merchant=merchant, name="S", kind="hall_slot")
    start = timezone.now() + dt.timedelta(days=1)
    TimeSlot.objects.create(
        service=service,
        hall=hall,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        capacity=5,
    )
    user = make_user("fuzzer")
    MerchantStaff.objects.create(user=user, merchant=merchant, role=StaffRole.OWNER)
    key, _ = issue_token(user=user, via="password")
    return key


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_no_server_errors(case, owner_token):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {owner_token}"}, checks=[not_a_server_error]
    )
