"""The JSON API: one NinjaAPI with a router per part of the business; OpenAPI at /api/docs."""

from __future__ import annotations

import logging
import re
import typing

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import DataError
from django.http import Http404
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.params.models import PathModel, QueryModel

from yuyue.api.refusals import by_status, operation_codes, refusal_response
from yuyue.core.answers import StrictJSONRenderer
from yuyue.core.errors import CATALOGUE, DomainError, problem
from yuyue.core.metrics import counter

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

REFUSALS = counter(
    "yuyue_api_refusals_total", "API requests refused, by operation and code", ["operation", "code"]
)


class YuyueAPI(NinjaAPI):
    """The API with operationIds a client generator turns into readable names (`book_slot`, the
    view's own name, unique across the API: a test holds it so) and every operation's refusals
    documented as problem+json."""

    def get_openapi_operation_id(self, operation) -> str:
        return operation.view_func.__name__

    def get_openapi_schema(self, *args, **kwargs):
        schema = super().get_openapi_schema(*args, **kwargs)
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        codes = documented_codes()
        for methods in schema.get("paths", {}).values():
            for operation in methods.values():
                responses = operation.setdefault("responses", {})
                named_by_status = by_status(
                    codes[operation["operationId"]], with_body="requestBody" in operation
                )
                for status, named in named_by_status.items():
                    responses.setdefault(status, refusal_response(named))
                for parameter in operation.get("parameters", []):
                    _bound_integers(parameter.get("schema", {}))
        for component in schema["components"]["schemas"].values():
            _bound_integers(component)
        return schema


INT64 = (-(2**63), 2**63 - 1)


def _bound_integers(node) -> None:
    """Every integer the API takes is a 64-bit one (ids, amounts in fen, counts): said in the
    document, so that a client (or a fuzzer) knows a larger number is refused (422)."""
    if isinstance(node, dict):
        if node.get("type") == "integer":
            node.setdefault("minimum", INT64[0])
            node.setdefault("maximum", INT64[1])
        for value in node.values():
            _bound_integers(value)
    elif isinstance(node, list):
        for value in node:
            _bound_integers(value)


api = YuyueAPI(
    renderer=StrictJSONRenderer(),
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
    request.problem_code = body["code"]  # for the log lines of this request (core.logs)
    REFUSALS.labels(operation=getattr(request, "operation_id", "") or "-", code=body["code"]).inc()
    response = api.create_response(request, body, status=status)
    response["Content-Type"] = "application/problem+json"
    return response


@api.exception_handler(DomainError)
def on_domain_error(request, exc: DomainError):
    body = problem(exc.code, status=exc.status, detail=exc.message(), errors=exc.errors)
    response = _problem_response(request, body, exc.status)
    if "retry_after" in exc.params:  # throttled, or asked to wait (RFC 9110 section 10.2.3)
        response["Retry-After"] = str(exc.params["retry_after"])
    return response


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    errors = [
        {"loc": [str(p) for p in e.get("loc", [])], "problem": e.get("msg", "")} for e in exc.errors
    ]
    if errors and all(e["loc"][-1:] == ["Idempotency-Key"] for e in errors):
        # the key's own code, as when a service checks it (core.idempotency.checked_key)
        return _problem_response(request, problem("idempotency_key_invalid", errors=errors), 422)
    return _problem_response(request, problem("invalid_input", errors=errors), 422)


@api.exception_handler(AuthenticationError)
def on_auth_error(request, exc):
    return _problem_response(request, problem("auth_required"), 401)


@api.exception_handler(PermissionDenied)
def on_forbidden(request, exc):
    return _problem_response(request, problem("forbidden"), 403)


@api.exception_handler(ObjectDoesNotExist)
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
    """Every part's routers, by who calls them (the paths are the parts' own)."""
    from yuyue.accounts import api as accounts
    from yuyue.api import platform
    from yuyue.billing import api as billing
    from yuyue.billing import loyalty_api, reports_api
    from yuyue.billing import ops_api as billing_ops
    from yuyue.billing import provider_api as billing_provider
    from yuyue.billing import staff_api as billing_staff
    from yuyue.calls import api as calls
    from yuyue.catalog import api as catalog
    from yuyue.catalog import ops_api as catalog_ops
    from yuyue.catalog import people_api
    from yuyue.catalog import staff_api as catalog_staff
    from yuyue.dispatch import api as dispatch
    from yuyue.dispatch import ops_api as dispatch_ops
    from yuyue.dispatch import provider_api as dispatch_provider
    from yuyue.engagement import api as engagement
    from yuyue.notifications import api as notifications
    from yuyue.orders import api as orders
    from yuyue.orders import provider_api as orders_provider
    from yuyue.orders import staff_api as orders_staff
    from yuyue.pricing import api as pricing
    from yuyue.pricing import ops_api as pricing_ops
    from yuyue.scheduling import api as scheduling
    from yuyue.scheduling import providers_api
    from yuyue.scheduling import staff_api as scheduling_staff

    api.add_router("/auth", accounts.router)  # everyone: signing in
    api.add_router("/", platform.router)
    # customers (and anyone browsing)
    for part in (catalog, scheduling, providers_api, pricing, orders, dispatch, billing):
        api.add_router("/", part.router)
    api.add_router("/", loyalty_api.router)
    api.add_router("/", calls.router)  # both sides of a call
    api.add_router("/", notifications.router)
    api.add_router("/", engagement.router)
    # providers
    for part in (orders_provider, dispatch_provider, billing_provider):
        api.add_router("/", part.router)
    # merchant staff
    for part in (catalog_staff, scheduling_staff, orders_staff, billing_staff, reports_api):
        api.add_router("/", part.router)
    api.add_router("/", engagement.staff_router)
    # operators
    for part in (dispatch_ops, billing_ops, pricing_ops):
        api.add_router("/", part.router)
    api.add_router("/ops", catalog_ops.ops_router)
    api.add_router("/ops", accounts.ops_router)
    api.add_router("/ops", people_api.ops_router)
    api.add_router("/ops", engagement.ops_router)


def _query_names(operation) -> set[str]:
    names: set[str] = set()
    for model in operation.models:
        if issubclass(model, QueryModel):
            names |= set(getattr(model, "__ninja_flatten_map__", {}) or model.model_fields)
            names |= {f.alias for f in model.model_fields.values() if f.alias}
    return names


def _integer_names(operation) -> set[str]:
    """The operation's query and path parameters that are integers."""
    names: set[str] = set()
    for model in operation.models:
        if issubclass(model, QueryModel | PathModel):
            for name, field in model.model_fields.items():
                ann = field.annotation
                if ann is int or int in typing.get_args(ann):
                    names.add(field.alias or name)
    return names


INTEGER = re.compile(r"[-+]?[0-9]+")


def _out_of_range(request, names: set[str]) -> str | None:
    """The first integer parameter outside 64 bits (the document's bounds), if any: refused
    before any lookup rather than overflowing in the database."""
    match = getattr(request, "resolver_match", None)
    values = [(n, v) for n in names for v in request.GET.getlist(n)]
    if match is not None:
        values += [(n, str(match.kwargs[n])) for n in names if n in match.kwargs]
    for name, value in values:
        if INTEGER.fullmatch(value.strip()) and not INT64[0] <= int(value) <= INT64[1]:
            return name
    return None


def _refuse_unknown_query_parameters() -> None:
    """A query parameter an operation does not take is refused (422, naming it), not ignored:
    `/api/ops/people?q=…` must not quietly list everyone. Checked after authentication, like
    every other input. (The operations served are the bound routers' copies, ninja 1.5+.)"""
    for router in api._get_bound_routers():
        for path_view in router.path_operations.values():
            for operation in path_view.operations:
                known = frozenset(_query_names(operation))
                integers = frozenset(_integer_names(operation))
                checks = operation._run_checks

                def run_checks(
                    request, checks=checks, known=known, integers=integers, op=operation
                ):
                    # which operation answers (its operationId): for logs, and for the tests
                    # that hold each refusal to the codes the document lists for it
                    request.operation_id = op.view_func.__name__
                    refused = checks(request)
                    if refused is not None:
                        return refused
                    too_big = _out_of_range(request, integers)
                    if too_big:
                        return api.on_exception(
                            request,
                            DomainError(
                                "invalid_input",
                                f"{too_big} is out of range (a 64-bit integer).",
                                errors=[{"loc": [too_big], "problem": "out of range"}],
                            ),
                        )
                    unknown = sorted(set(request.GET) - known)
                    if not unknown:
                        return None
                    return api.on_exception(
                        request,
                        DomainError(
                            "invalid_input",
                            f"Unknown query parameter: {', '.join(unknown)}.",
                            errors=[
                                {"loc": ["query", name], "problem": "not a parameter here"}
                                for name in unknown
                            ],
                        ),
                    )

                operation._run_checks = run_checks


def documented_codes() -> dict[str, set[str]]:
    """operationId → the problem codes the document lists for that operation."""
    return {
        operation.view_func.__name__: operation_codes(operation, path)
        for router in api._get_bound_routers()
        for path, path_view in router.path_operations.items()
        for operation in path_view.operations
    }


_register_routers()
_refuse_unknown_query_parameters()
