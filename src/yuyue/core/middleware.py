"""What reaches the API and what leaves it, checked once for every endpoint.

`CleanInputMiddleware` refuses, before any view runs, what no field of ours can hold: NUL
characters in the address, its query or a JSON body (no text column takes them; PostgreSQL
refuses them outright); in a JSON body the non-numbers `NaN`, `Infinity` and `-Infinity`
(Python's json reads them, JSON does not have them, and served back they make invalid JSON), lone
UTF-16 surrogate halves such as "\\ud800" (no UTF-8 text can hold them), and nesting deeper
than any of our bodies needs. Each is a 422 problem; nothing is written.

`ProblemResponsesMiddleware` makes every refusal under /api/ a problem+json, including those
no endpoint answers itself: a body over the size limit (413), a method the path does not take
(405, with `Allow`), an address no route serves (404).
"""

from __future__ import annotations

import json

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse

from .errors import problem

JSON_NUL = (b"\\u0000", b"\x00")
MAX_DEPTH = 32


class _Refused(ValueError):
    pass


def _refuse_constant(name: str):
    raise _Refused(f"{name} is not a number: JSON numbers are finite.")


def _walk(data) -> str | None:
    """What is wrong with a parsed JSON body, or None."""
    stack = [(data, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"The body is nested more than {MAX_DEPTH} levels deep."
        if isinstance(value, str):
            if "\x00" in value:
                return "NUL characters are not allowed."
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return "Text must not contain lone surrogate characters."
        elif isinstance(value, dict):
            stack.extend((k, depth + 1) for k in value)
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
    return None


def _input_problem(request) -> str | None:
    if "\x00" in request.path:
        return "NUL characters are not allowed."
    for key, values in request.GET.lists():
        if "\x00" in key or any("\x00" in v for v in values):
            return "NUL characters are not allowed."
    if request.content_type != "application/json" or not request.body:
        return None
    try:
        data = json.loads(request.body, parse_constant=_refuse_constant)
    except _Refused as exc:
        return str(exc)
    except RecursionError:
        return f"The body is nested more than {MAX_DEPTH} levels deep."
    except ValueError:
        if any(mark in request.body for mark in JSON_NUL):
            return "NUL characters are not allowed."
        return None  # not JSON at all: the endpoint's parser says so (400)
    return _walk(data)


def _problem(status: int, code: str, detail: str | None = None) -> HttpResponse:
    body = problem(code, status=status, detail=detail)
    return HttpResponse(json.dumps(body), status=status, content_type="application/problem+json")


class CleanInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            wrong = _input_problem(request)
        except RequestDataTooBig:
            return _problem(413, "payload_too_large")
        if wrong:
            return _problem(422, "invalid_input", wrong)
        return self.get_response(request)


class ProblemResponsesMiddleware:
    """Refusals under /api/ that are not problem+json already become one (same status)."""

    CODES = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not request.path.startswith("/api/")
            or "json" in response.get("Content-Type", "")
        ):
            return response
        code = self.CODES.get(response.status_code)
        if code is None:
            code = "internal_error" if response.status_code >= 500 else "invalid_input"
        replaced = _problem(response.status_code, code)
        if "Allow" in response:
            replaced["Allow"] = response["Allow"]
        return replaced
