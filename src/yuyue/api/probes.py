"""What load balancers, orchestrators and Prometheus ask (docs/operations.md, "Health and
metrics"): `/health/live` (the process answers), `/health/ready` (it can serve: the database,
the cache, Redis, the job queue and the workers; django-health-check), `/metrics` (Prometheus,
behind YUYUE_METRICS_TOKEN)."""

from __future__ import annotations

import asyncio
import hmac
import os

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from django.views.decorators.http import require_GET
from health_check.checks import Cache, Database
from health_check.exceptions import ServiceWarning
from health_check.views import HealthCheckView
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily

from yuyue.core.health import JobQueue, Workers, closing, due_jobs, workers


@require_GET
def live(request):
    """The process is up and answers: no dependency asked (a restart would not mend one)."""
    return JsonResponse({"status": "ok"})


def _checks() -> list:
    checks: list = [Database, Cache, Workers, JobQueue]
    if settings.REDIS_URL:  # the channel layer's server (the cache check covers the cache)
        from health_check.contrib.redis import Redis
        from redis.asyncio import Redis as RedisClient

        checks.append((Redis, {"client_factory": lambda: RedisClient.from_url(settings.REDIS_URL)}))
    return checks


class Readiness(HealthCheckView):
    """200 `ok` or `degraded` (warnings: a dead worker beside live ones, late jobs), 503
    `unavailable` when something it needs is down; each check's word in `checks`."""

    def get_checks(self):
        self.checks = _checks()
        return super().get_checks()

    async def get(self, request, *args, **kwargs):
        with self.get_executor() as executor:
            results = await asyncio.gather(*(c.get_result(executor) for c in self.get_checks()))
        down = [r for r in results if r.error and not isinstance(r.error, ServiceWarning)]
        warned = [r for r in results if isinstance(r.error, ServiceWarning)]
        status = "unavailable" if down else ("degraded" if warned else "ok")
        checks = {repr(r.check): str(r.error) if r.error else "OK" for r in results}
        return JsonResponse({"status": status, "checks": checks}, status=503 if down else 200)


readiness = Readiness.as_view()


class PlatformGauges:
    """Read from the database at each scrape: what no single process knows."""

    @closing
    def collect(self):
        count, waited = due_jobs()
        alive, dead = workers()
        yield GaugeMetricFamily("yuyue_jobs_due", "Jobs due and not started", value=count)
        yield GaugeMetricFamily(
            "yuyue_jobs_oldest_due_seconds", "How long the oldest due job has waited", waited
        )
        yield GaugeMetricFamily("yuyue_workers_alive", "Job workers beating", value=len(alive))
        yield GaugeMetricFamily(
            "yuyue_workers_dead", "Job workers silent in the last day", value=len(dead)
        )


def _allowed(request) -> bool:
    token = settings.YUYUE_METRICS_TOKEN
    if not token:
        return not settings.PRODUCTION  # development: open (make run serves 127.0.0.1)
    given = request.headers.get("Authorization", "")
    return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())


@require_GET
def metrics(request):
    if not _allowed(request):
        if not settings.YUYUE_METRICS_TOKEN:
            return HttpResponse(status=404)
        response = HttpResponse("metrics need the token", status=401, content_type="text/plain")
        response["WWW-Authenticate"] = 'Bearer realm="metrics"'
        return response
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # every process of this machine, added up
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        body = generate_latest(registry)
    else:
        body = generate_latest(REGISTRY)
    gauges = CollectorRegistry()
    gauges.register(PlatformGauges())
    return HttpResponse(body + generate_latest(gauges), content_type=CONTENT_TYPE_LATEST)
