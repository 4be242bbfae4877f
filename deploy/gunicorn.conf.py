"""gunicorn's settings for the `web` line of deploy/Procfile (read from the environment)."""

import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_WORKERS", "2"))
worker_class = "gthread"
threads = int(os.environ.get("WEB_THREADS", "16"))
timeout = 60
graceful_timeout = 20
backlog = 2048
# nginx on this machine says who the client is (X-Forwarded-For, X-Forwarded-Proto)
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# a worker that served this many requests is replaced (memory a leak would hold goes back)
max_requests = int(os.environ.get("WEB_MAX_REQUESTS", "20000"))
max_requests_jitter = max_requests // 10


def child_exit(server, worker):
    """A dead worker's live gauges leave /metrics (its counters stay added up)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


# gunicorn's own lines (workers booting, dying, timing out) as the platform's: JSON in production,
# times in UTC (yuyue.core.logs); its access log stays off (nginx keeps one, with $request_id).
_json = (os.environ.get("LOG_FORMAT") or "") == "json" or (
    not os.environ.get("LOG_FORMAT") and os.environ.get("YUYUE_ENV") == "production"
)
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "line": (
            {
                "()": "yuyue.core.logs.UtcJsonFormatter",
                "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
                "rename_fields": {"asctime": "time", "levelname": "level", "name": "logger"},
            }
            if _json
            else {
                "()": "yuyue.core.logs.UtcFormatter",
                "format": "%(asctime)s %(levelname)s %(name)s %(message)s",
            }
        )
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "line"}},
    "loggers": {"gunicorn.error": {"handlers": ["console"], "level": "INFO", "propagate": False}},
}
