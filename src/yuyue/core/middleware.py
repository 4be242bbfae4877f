"""Refuse NUL characters in the address, its query or a JSON body before any view runs: no text
column can hold them (PostgreSQL refuses them outright), and no one types them."""

from __future__ import annotations

import json

from django.http import HttpResponse

from .errors import problem

JSON_NUL = (b"\\u0000", b"\x00")


def _has_nul(request) -> bool:
    if "\x00" in request.path:
        return True
    for key, values in request.GET.lists():
        if "\x00" in key or any("\x00" in v for v in values):
            return True
    if request.content_type == "application/json":
        body = request.body
        return any(mark in body for mark in JSON_NUL)
    return False


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _has_nul(request):
            body = problem("invalid_input", status=422, detail="NUL characters are not allowed.")
            return HttpResponse(
                json.dumps(body), status=422, content_type="application/problem+json"
            )
        return self.get_response(request)
