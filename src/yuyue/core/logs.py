"""Logging helpers: UTC times, the job worker kept quiet on the console, and every line of a
request carrying who and what it was about (request id, user, merchant, the operation and the
refusal's code), as fields of a JSON line in production (`LOG_FORMAT=json`, python-json-logger)
and left out of the plain text of development."""

from __future__ import annotations

import contextvars
import logging
import os
import re
import time
import uuid

from pythonjsonlogger.json import JsonFormatter

# the request being served by this thread or task (set by RequestLogContext)
_request: contextvars.ContextVar = contextvars.ContextVar("yuyue_request", default=None)
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
ID = re.compile(r"[0-9]{1,18}")


class UtcFormatter(logging.Formatter):
    """Log times in UTC, marked as such (2026-12-04T18:36:58.150Z), like every time the API
    answers with: the process runs in TIME_ZONE (Asia/Shanghai), and a bare local stamp beside
    the API's UTC times sends whoever matches a log line to a request eight hours astray."""

    converter = time.gmtime
    default_time_format = "%Y-%m-%dT%H:%M:%S"
    default_msec_format = "%s.%03dZ"


class UtcJsonFormatter(JsonFormatter):
    """python-json-logger's lines, their time in UTC like the plain ones."""

    converter = time.gmtime
    default_time_format = UtcFormatter.default_time_format
    default_msec_format = UtcFormatter.default_msec_format


class QuietJobs(logging.Filter):
    """Drop the job worker's per-job INFO lines (periodic jobs run every few seconds and would
    flood the console); its warnings and errors still show. YUYUE_JOB_LOGS=1 shows them all.
    A handler filter, because the worker sets its logger's level from --verbosity itself."""

    def filter(self, record: logging.LogRecord) -> bool:
        if os.environ.get("YUYUE_JOB_LOGS") == "1":
            return True
        return not (record.name.startswith("django_tasks") and record.levelno < logging.WARNING)


class RequestLogContext:
    """Middleware: each request gets an id (the proxy's `X-Request-ID` when it is a sane token,
    else a new one), sent back in the answer's `X-Request-ID`, and is what every log line made
    while serving it is about (`RequestFields`)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        given = request.headers.get("X-Request-ID", "")
        request.request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        token = _request.set(request)
        try:
            response = self.get_response(request)
        finally:
            _request.reset(token)
        response["X-Request-ID"] = request.request_id
        return response


def _user_id(request) -> int | None:
    """The person a request is from, if already known (a bearer token read by the API, or the
    session's user once loaded): never a database read from inside a log call."""
    auth = getattr(request, "auth", None)
    if getattr(auth, "pk", None):
        return auth.pk
    user = getattr(request, "_cached_user", None)
    return user.pk if getattr(user, "is_authenticated", False) else None


class RequestFields(logging.Filter):
    """Adds request_id, user_id, merchant_id, operation and code to every record made while a
    request is served (or naming one: Django's request logger passes it), None otherwise."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None) or _request.get()
        match = getattr(request, "resolver_match", None)
        kwargs = getattr(match, "kwargs", None) or {}
        record.request_id = getattr(request, "request_id", None)
        record.user_id = _user_id(request) if request is not None else None
        merchant = kwargs.get("merchant_id") or getattr(request, "merchant_id", None)
        # ASCII digits only: "¹" is a digit to str.isdigit() and not a number to int()
        record.merchant_id = int(merchant) if ID.fullmatch(str(merchant or "")) else None
        record.operation = getattr(request, "operation_id", None)
        record.code = getattr(request, "problem_code", None)
        return True
