"""The JSON API: one NinjaAPI with a router per part of the business; OpenAPI at /api/docs."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import DataError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from yuyue.core.errors import CATALOGUE, DomainError, problem

log = logging.getLogger("yuyue.api")

PROBLEM_SCHEMA = {
    "title": "Problem",
    "description": "RFC 9457 problem details: every refusal, with a stable `code` (docs/api.md).",
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string", "enum": sorted(CATALOGUE)},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["type", "title", "status", "code", "detail"],
}


class YuyueAPI(NinjaAPI):
    """The API with operationIds a client generator turns into readable names (`book_slot`, the
    view's own name, unique across the API: a test holds it so) and every operation's refusals
    documented as problem+json."""

    def get_openapi_operation_id(self, operation) -> str:
        return operation.view_func.__name__

    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        refusal = {
            "description": "Refused: a problem with its stable code",
            "content": {
                "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
            },
        }
        for methods in schema.get("paths", {}).values():
            for operation in methods.values():
                operation.setdefault("responses", {}).setdefault("4XX", refusal)
        return schema


api = YuyueAPI(
    title="yuyue API",
    version="1",
    description=(
        "Booking and delivering services at a time and place. Authenticate with "
        "`Authorization: Bearer <token>` from `/api/auth/*`. Every refusal is an RFC 9457 problem "
        "with a stable `code`; messages follow `Accept-Language` (zh-Hans by default, or en)."
    ),
    urls_namespace="api",
)


def _problem_response(request, body: dict, status: int):
    response = api.create_response(request, body, status=status)
    response["Content-Type"] = "application/problem+json"
    return response


@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError):
    body = problem(exc.code, status=exc.status, detail=exc.message(), errors=exc.errors)
    return _problem_response(request, body, exc.status)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    errors = [
        {"loc": [str(p) for p in e.get("loc", [])], "problem": e.get("msg", "")} for e in exc.errors
    ]
    return _problem_response(request, problem("invalid_input", errors=errors), 422)


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return _problem_response(request, problem("auth_required"), 401)


@api.exception_handler(PermissionDenied)
def on_forbidden(request, exc):
    return _problem_response(request, problem("forbidden"), 403)


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return _problem_response(request, problem("not_found"), 404)


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    code = {401: "auth_required", 403: "forbidden", 404: "not_found"}.get(
        exc.status_code, "invalid_input"
    )
    return _problem_response(
        request, problem(code, status=exc.status_code, detail=str(exc)), exc.status_code
    )


@api.exception_handler(OverflowError)
@api.exception_handler(DataError)
def on_out_of_range(request, exc):
    """A number too large for the database column (an id of 10**30, say) is bad input."""
    return _problem_response(
        request, problem("invalid_input", detail="A number is out of range."), 422
    )


@api.exception_handler(Exception)
def on_unexpected(request, exc: Exception):
    log.exception("unhandled error on %s %s", request.method, request.path)
    if settings.DEBUG:
        raise exc
    return _problem_response(request, problem("internal_error"), 500)


def _register_routers() -> None:
    from yuyue.accounts.api import ops_router as accounts_ops_router
    from yuyue.accounts.api import router as accounts_router
    from yuyue.api.platform import router as core_router
    from yuyue.billing.api import router as billing_router
    from yuyue.billing.loyalty_api import router as loyalty_router
    from yuyue.billing.reports_api import router as reports_router
    from yuyue.calls.api import router as calls_router
    from yuyue.catalog.api import ops_router as catalog_ops_router
    from yuyue.catalog.api import router as catalog_router
    from yuyue.catalog.people_api import ops_router as people_ops_router
    from yuyue.dispatch.api import router as dispatch_router
    from yuyue.notifications.api import router as notices_router
    from yuyue.orders.api import router as orders_router
    from yuyue.orders.provider_api import router as orders_provider_router
    from yuyue.orders.staff_api import router as orders_staff_router
    from yuyue.scheduling.api import router as scheduling_router
    from yuyue.scheduling.providers_api import router as providers_router

    api.add_router("/auth", accounts_router)
    api.add_router("/", catalog_router)
    api.add_router("/", scheduling_router)
    api.add_router("/", providers_router)
    api.add_router("/", orders_router)
    api.add_router("/", orders_staff_router)
    api.add_router("/", orders_provider_router)
    api.add_router("/", core_router)
    api.add_router("/", notices_router)
    api.add_router("/", dispatch_router)
    api.add_router("/", billing_router)
    api.add_router("/", loyalty_router)
    api.add_router("/", reports_router)
    api.add_router("/", calls_router)
    api.add_router("/ops", catalog_ops_router)
    api.add_router("/ops", accounts_ops_router)
    api.add_router("/ops", people_ops_router)


_register_routers()
