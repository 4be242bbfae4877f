"""Which refusals each operation can answer with, found by reading the code it runs.

The OpenAPI document lists, for every operation, the problem codes it may refuse with (grouped by
HTTP status), so that a client knows what to handle for `book_slot` without reading the whole
catalogue. The lists are not written by hand next to 190 operations (they would drift): they are
found by following the operation's function through the functions, classes and modules it names
(its bytecode: globals, attributes of modules and classes, imports inside functions), collecting
every catalogue code it mentions. What an operation may refuse with is the union over what it can
reach, so a list may hold a code that a given request never meets, but not miss one: the test suite
checks every refusal it provokes against the documented list of its operation
(tests/conftest.py, `refusals_are_documented`).
"""

from __future__ import annotations

import builtins
import contextlib
import dis
import importlib
import importlib.util
import inspect
import types
from collections.abc import Iterable
from functools import cache

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.http import Http404

from yuyue.core.errors import CATALOGUE

OWN = "yuyue."
# names that, once reached, mean a generic refusal
NAMED = {PermissionDenied: "forbidden", Http404: "not_found", ObjectDoesNotExist: "not_found"}
# attributes whose use answers not_found when nothing matches (…objects.get, get_object_or_404)
LOOKUPS = {"get_object_or_404", "DoesNotExist", "get_object_or_none"}
GETS = {("objects", "get"), ("select_for_update", "get"), ("filter", "get"), ("all", "get")}
CONTAINERS = (dict, list, tuple, set, frozenset)


def _codes_in(value, depth: int = 0) -> set[str]:
    if isinstance(value, str):
        return {value} if value in CATALOGUE else set()
    if depth > 2 or not isinstance(value, CONTAINERS):
        return set()
    items = list(value.items()) if isinstance(value, dict) else list(value)
    found: set[str] = set()
    for item in items:
        found |= _codes_in(item, depth + 1)
    return found


def _own(obj) -> bool:
    module = getattr(obj, "__module__", None) or ""
    # the catalogue's own module names every code: reaching DomainError says nothing
    return module.startswith(OWN) and module != "yuyue.core.errors"


def _imported(name: str, level: int, package: str | None):
    """The module an import names, if it is one of ours (`from . import series` too)."""
    try:
        full = importlib.util.resolve_name("." * level + name, package) if level else name
        return importlib.import_module(full) if full.startswith(OWN) else None
    except (ImportError, ValueError):
        return None


class _Reach:
    def __init__(self):
        self.codes: set[str] = set()
        self.seen: set[int] = set()

    def visit(self, obj) -> None:
        """A function, method, class or module-level value the operation reaches."""
        if isinstance(obj, staticmethod | classmethod):
            obj = obj.__func__
        if isinstance(obj, property):
            for part in (obj.fget, obj.fset):
                self.visit(part)
            return
        if isinstance(obj, types.MethodType):
            obj = obj.__func__
        if isinstance(obj, CONTAINERS) and obj is not CATALOGUE:
            self.codes |= _codes_in(obj)
            # a registry (name → class or function): what it holds can be called
            for item in obj.values() if isinstance(obj, dict) else obj:
                if isinstance(item, type | types.FunctionType):
                    self.visit(item)
            return
        if isinstance(obj, type):
            for cls, code in NAMED.items():
                if issubclass(obj, cls):
                    self.codes.add(code)
            if not _own(obj) or id(obj) in self.seen:
                return
            self.seen.add(id(obj))
            for base in obj.__mro__:
                if _own(base):
                    for value in vars(base).values():
                        if not isinstance(value, type):  # a model's DoesNotExist, Meta, …
                            self.visit(value)
            return
        if not isinstance(obj, types.FunctionType):
            return
        obj = inspect.unwrap(obj)
        if not _own(obj) or id(obj) in self.seen:
            return
        self.seen.add(id(obj))
        for cell in obj.__closure__ or ():
            with contextlib.suppress(ValueError):  # an empty cell
                self.visit(cell.cell_contents)
        for annotation in getattr(obj, "__annotations__", {}).values():
            if isinstance(annotation, type):
                self.visit(annotation)
        self._code(obj.__code__, obj.__globals__)

    def _code(self, code: types.CodeType, namespace: dict, bound: dict | None = None) -> None:
        chain = None  # the object the instructions so far name (a global, then its attributes)
        module = None  # the module of an `import` being read
        previous = None  # the attribute named just before
        # locals bound to a module or function by an import in the function (seen by the
        # functions nested in it too)
        bound = dict(bound or {})
        level = 0  # the level of a relative import (the constant loaded before IMPORT_NAME)
        for ins in dis.get_instructions(code):
            op, arg = ins.opname, ins.argval
            if op in ("LOAD_ATTR", "LOAD_METHOD") and (arg in LOOKUPS or (previous, arg) in GETS):
                self.codes.add("not_found")
            previous = arg if op in ("LOAD_ATTR", "LOAD_METHOD") else None
            if op != "IMPORT_NAME":
                level = arg if op == "LOAD_CONST" and isinstance(arg, int) else level
            if op == "LOAD_CONST":
                if isinstance(arg, types.CodeType):
                    self._code(arg, namespace, bound)
                else:
                    self.codes |= _codes_in(arg)
                chain = None
            elif op == "LOAD_GLOBAL" or op == "LOAD_NAME":
                chain = namespace.get(arg, getattr(builtins, str(arg), None))
                self.visit(chain)
            elif op in ("LOAD_ATTR", "LOAD_METHOD"):
                if isinstance(chain, types.ModuleType | type):
                    chain = getattr(chain, arg, None)
                    self.visit(chain)
                else:
                    chain = None
            elif op == "IMPORT_NAME":
                module = _imported(arg, level, namespace.get("__package__"))
                chain = module
            elif op == "IMPORT_FROM" and module is not None:
                value = getattr(module, arg, None)
                if value is None:
                    try:
                        value = importlib.import_module(f"{module.__name__}.{arg}")
                    except ImportError:
                        value = None
                self.visit(value)
                chain = value
            elif op in ("STORE_FAST", "STORE_DEREF", "STORE_NAME") and chain is not None:
                bound[arg] = chain  # `from . import taskhall` inside a function: a local
                chain = None
            elif op in ("LOAD_FAST", "LOAD_DEREF", "LOAD_CLOSURE"):
                chain = bound.get(arg)
            else:
                chain = None


@cache
def reachable_codes(func) -> frozenset[str]:
    reach = _Reach()
    reach.visit(func)
    return frozenset(reach.codes)


def operation_codes(operation, path: str) -> set[str]:
    """The codes one ninja operation may refuse with: what its function reaches, plus what the
    API itself answers for any operation (bad input, a missing sign-in, an unknown id)."""
    codes = set(reachable_codes(operation.view_func)) | {"invalid_input"}
    for model in operation.models:
        codes |= reachable_codes(model)
    for callback in operation.auth_callbacks:  # who may call it: staff, operators, …
        codes |= reachable_codes(type(callback)) | {"auth_required"}
    if "{" in path:
        codes.add("not_found")
    if any(
        (field.alias or name).lower() == "idempotency-key"
        for model in operation.models
        for name, field in model.model_fields.items()
    ):
        codes.add("idempotency_key_invalid")
    if set(operation.methods) & {"POST", "PUT", "PATCH"}:
        codes.add("payload_too_large")  # any body over the limit (core.middleware)
    codes.discard("internal_error")
    return codes


def by_status(codes: Iterable[str], *, with_body: bool = False) -> dict[int, list[str]]:
    """Codes grouped by the status they are answered with (the catalogue's); a body that is not
    JSON at all is `invalid_input` answered 400 (ninja's parser), before any field is read."""
    grouped: dict[int, list[str]] = {}
    for code in sorted(codes):
        grouped.setdefault(CATALOGUE[code][0], []).append(code)
    if with_body:
        grouped.setdefault(400, []).append("invalid_input")
    return dict(sorted(grouped.items()))


def refusal_response(codes: list[str]) -> dict:
    """One status's response in the document: a problem whose code is one of these."""
    return {
        "description": "Refused: " + ", ".join(f"`{code}`" for code in codes),
        "content": {
            "application/problem+json": {
                "schema": {
                    "allOf": [
                        {"$ref": "#/components/schemas/Problem"},
                        {"type": "object", "properties": {"code": {"enum": codes}}},
                    ]
                }
            }
        },
    }
