"""Answers sent as built, for hot endpoints."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from ninja.renderers import JSONRenderer


class StrictJSONRenderer(JSONRenderer):
    """The API's renderer: only valid JSON leaves. A NaN or an infinity in an answer is an error
    on our side (a 500, logged), never the `NaN` token a client's parser rejects."""

    json_dumps_params = {"allow_nan": False}


_renderer = StrictJSONRenderer()
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
