"""Liveness, readiness and the metrics endpoint (yuyue.api.probes)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.core.jobs import marked_wait
from yuyue.core.models import WorkerBeat

pytestmark = pytest.mark.django_db(transaction=True)


def beat(worker_id: str, seconds_ago: float) -> None:
    at = timezone.now() - dt.timedelta(seconds=seconds_ago)
    WorkerBeat.objects.create(worker_id=worker_id, host="h", pid=7, started_at=at, beat_at=at)


def test_liveness_asks_nothing_and_answers(client):
    r = client.get("/health/live")
    assert r.status_code == 200 and r.json() == {"status": "ok"}


def test_ready_when_the_database_cache_and_a_worker_answer(client):
    beat("w1", 1)
    r = client.get("/health/ready")
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["status"] == "ok"
    assert set(body["checks"].values()) == {"OK"}
    assert {"Workers", "JobQueue", "Cache(alias='default')", "Database(alias='default')"} <= set(
        body["checks"]
    )
    assert r["Cache-Control"].startswith("max-age=0")


def test_not_ready_without_a_live_worker_and_the_dead_are_named(client, settings):
    r = client.get("/health/ready")
    assert r.status_code == 503 and r.json()["checks"]["Workers"] == (
        "Unavailable: no job worker alive"
    )
    beat("gone", settings.YUYUE_WORKER_DEAD_SECONDS + 10)
    body = client.get("/health/ready").json()
    assert body["status"] == "unavailable"
    assert "dead: gone (pid 7, silent 40 s)" in body["checks"]["Workers"]


def test_a_dead_worker_beside_live_ones_is_reported_not_fatal_and_clears_when_it_returns(client):
    beat("w1", 1)
    beat("w2", 45)
    r = client.get("/health/ready")
    assert r.status_code == 200
    assert r.json()["status"] == "degraded"
    assert r.json()["checks"]["Workers"] == "Warning: 1 alive; dead: w2 (pid 7, silent 45 s)"
    WorkerBeat.objects.filter(worker_id="w2").update(beat_at=timezone.now())  # restarted
    body = client.get("/health/ready").json()
    assert (body["status"], body["checks"]["Workers"]) == ("ok", "OK")


def test_late_jobs_are_reported_with_their_count_and_the_oldest_wait(client, settings):
    beat("w1", 1)
    marked_wait.enqueue("fresh", 0)
    late = marked_wait.enqueue("late", 0)
    DBTaskResult.objects.filter(pk=late.id).update(
        enqueued_at=timezone.now() - dt.timedelta(seconds=125)
    )
    marked_wait.using(run_after=timezone.now() + dt.timedelta(hours=1)).enqueue("later", 0)
    body = client.get("/health/ready").json()
    assert body["status"] == "degraded"
    assert body["checks"]["JobQueue"].startswith("Warning: 2 jobs due; the oldest has waited 12")


def test_metrics_are_open_in_development_and_count_requests_and_the_queue(client):
    beat("w1", 1)
    marked_wait.enqueue("x", 0)
    client.get("/health/live")
    r = client.get("/metrics")
    assert r.status_code == 200 and r["Content-Type"].startswith("text/plain")
    text = r.content.decode()
    assert (
        'django_http_responses_total_by_status_view_method_total{method="GET",status="200"' in text
    )
    assert "yuyue_jobs_due 1.0" in text
    assert "yuyue_workers_alive 1.0" in text
    assert "django_db_execute_total" in text  # the database's statements, counted


def test_metrics_need_the_token_when_one_is_set_and_are_off_in_production_without(client, settings):
    settings.YUYUE_METRICS_TOKEN = "s3cret-metrics"
    r = client.get("/metrics")
    assert r.status_code == 401 and r["WWW-Authenticate"] == 'Bearer realm="metrics"'
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
    ok = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics")
    assert ok.status_code == 200 and b"yuyue_jobs_due" in ok.content
    settings.YUYUE_METRICS_TOKEN = ""
    settings.PRODUCTION = True
    assert client.get("/metrics").status_code == 404
