"""The platform's own deployment checks (`manage.py check --deploy`), beside Django's."""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def secrets_and_addresses(app_configs, **kwargs):
    problems = []
    if settings.SECRET_KEY == settings.DEV_SECRET_KEY:
        problems.append(
            Error(
                "SECRET_KEY is the development key.",
                hint="Set SECRET_KEY (and FIELD_ENCRYPTION_KEY) and YUYUE_ENV=production.",
                id="yuyue.E001",
            )
        )
    if settings.FIELD_ENCRYPTION_KEY in (settings.SECRET_KEY, settings.DEV_SECRET_KEY):
        problems.append(
            Error(
                "FIELD_ENCRYPTION_KEY is not a secret of its own.",
                hint="Personal data at rest needs its own key (docs/operations.md).",
                id="yuyue.E002",
            )
        )
    if not settings.YUYUE_PUBLIC_BASE_URL.startswith("https://"):
        problems.append(
            Warning(
                f"YUYUE_PUBLIC_BASE_URL is {settings.YUYUE_PUBLIC_BASE_URL!r}.",
                hint="Payment gateways notify and links point to it: the public https address.",
                id="yuyue.W003",
            )
        )
    if not settings.REDIS_URL:
        problems.append(
            Warning(
                "REDIS_URL is not set: throttling counters and websockets stay in one process.",
                hint="With more than one web process, set REDIS_URL.",
                id="yuyue.W004",
            )
        )
    if not settings.YUYUE_METRICS_TOKEN:
        problems.append(
            Warning(
                "YUYUE_METRICS_TOKEN is not set: /metrics is off in production.",
                hint="Set a token and give it to Prometheus (bearer_token in its scrape config).",
                id="yuyue.W005",
            )
        )
    return problems
