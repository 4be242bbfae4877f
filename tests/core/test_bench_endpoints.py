"""The benchmark's baselines: hidden unless switched on; the authenticated one checks the token."""

import pytest
from django.test import override_settings

from tests.conftest import Api, api_for
from yuyue.core.models import AuditLog


@pytest.mark.django_db
def test_bench_endpoints_are_hidden_unless_switched_on(customer):
    assert Api().post("/api/_bench/insert")[0] == 404
    assert api_for(customer).post("/api/_bench/insert-authed")[0] == 404
    assert not AuditLog.objects.filter(action__startswith="bench.").exists()


@pytest.mark.django_db
@override_settings(YUYUE_BENCH_ENDPOINTS=True)
def test_bench_inserts_one_row_each_and_the_authed_one_needs_a_live_token(customer):
    status, body = Api().post("/api/_bench/insert")
    assert status == 200 and AuditLog.objects.get(pk=body["id"]).action == "bench.insert"
    assert Api().post("/api/_bench/insert-authed")[0] == 401
    assert Api("not-a-token").post("/api/_bench/insert-authed")[0] == 401
    status, body = api_for(customer).post("/api/_bench/insert-authed")
    assert status == 200 and AuditLog.objects.get(pk=body["id"]).action == "bench.insert_authed"
    assert AuditLog.objects.filter(action__startswith="bench.").count() == 2
