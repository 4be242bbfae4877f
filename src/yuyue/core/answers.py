"""Answers sent as built, for hot endpoints."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from ninja.renderers import JSONRenderer

_renderer = JSONRenderer()  # the API's renderer (yuyue.api sets no other)
_content_type = f"{_renderer.media_type}; charset={_renderer.charset}"


def as_built(request, data: Any, *, status: int = 200) -> HttpResponse:
    """`data` encoded as the API encodes every answer, without validating it against the
    endpoint's response schema on the way out.

    ninja validates an answer field by field through its getters: for a booking that cost about
    as much as the rest of the booking's Python, for a search answer with hundreds of times a
    quarter of the request. Only for endpoints whose own code builds exactly the schema's shape,
    each with a test that holds its answer equal to the schema-validated one."""
    content = _renderer.render(request, data, response_status=status)
    return HttpResponse(content, status=status, content_type=_content_type)
