"""Selects built once: rows read become model instances as `from_db` makes them (see the
package)."""

from __future__ import annotations

import inspect
import json
from collections.abc import Sequence
from functools import cache
from typing import Any

from django.db import connection, models
from django.db.models.base import ModelState
from django.db.models.expressions import RawSQL
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, pre_init

from .base import M, cursor, default_db, qn, table


def _converted(values: list, convs: list, db) -> list:
    """`values` (one per column, in place) after each column's converters (`_converters`)."""
    for i, fns in enumerate(convs):
        for fn, col in fns:
            values[i] = fn(values[i], col, db)
    return values


def _converters(field) -> list:
    """What the ORM's compiler applies to a column read from the database, with its argument."""
    col = field.get_col(field.model._meta.db_table)
    fns = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
    return [(fn, col) for fn in fns]


@cache
def _select_plan(
    model: type[models.Model], related: tuple[str, ...], extra: tuple[str, ...], vendor: str
):
    """Columns and joins for `model` and the forward foreign keys in `related` (paths like
    "service__merchant"), each joined table aliased t0, t1, ..., then the `extra` expressions."""
    parts = []  # (path, model, alias, fk field from its parent or None, field names, converters)
    joins = []
    aliases = {"": "t0"}
    models_by_path = {"": model}

    def add(path: str, m: type[models.Model], fk) -> None:
        fields = list(m._meta.concrete_fields)
        parts.append(
            (
                path,
                m,
                aliases[path],
                fk,
                [f.attname for f in fields],
                [_converters(f) for f in fields],
            )
        )

    add("", model, None)
    for path in related:
        parent_path, _, name = path.rpartition("__")
        parent = models_by_path[parent_path]
        fk = parent._meta.get_field(name)
        assert fk.many_to_one or fk.one_to_one, f"{path}: a forward foreign key"
        alias = aliases[path] = f"t{len(aliases)}"
        models_by_path[path] = fk.related_model
        kind = "LEFT OUTER JOIN" if fk.null else "INNER JOIN"
        joins.append(
            f"{kind} {qn(fk.related_model._meta.db_table)} {alias} ON {alias}."
            f"{qn(fk.target_field.column)} = {aliases[parent_path]}.{qn(fk.column)}"
        )
        add(path, fk.related_model, fk)
    select = ", ".join(
        f"{alias}.{qn(m._meta.get_field(name).column)}"
        for _, m, alias, _, names, _ in parts
        for name in names
    )
    select += "".join(f", {expression}" for expression in extra)
    head = f"SELECT {select} FROM {qn(model._meta.db_table)} t0 " + " ".join(joins)
    return parts, head


@cache
def _filled_in(model: type[models.Model]) -> bool:
    """Whether an instance of `model` read with all its concrete fields can be made by filling
    its `__dict__`, which is what `Model.from_db` → `__init__` do for such a row, field by field
    through `setattr` (a quarter of a hall booking's row reading): only when neither is
    overridden and every field's attribute stores its value as given (plain fields and foreign
    keys' ids; not a file field, say). Signals are checked on each use (`_instance`)."""
    if model.from_db.__func__ is not models.Model.from_db.__func__:
        return False
    if model.__init__ is not models.Model.__init__:
        return False
    for f in model._meta.concrete_fields:
        attribute = inspect.getattr_static(model, f.attname, None)
        if type(attribute) not in (DeferredAttribute, ForeignKeyDeferredAttribute):
            return False
    return True


def _instance(model: type[M], alias: str, names: list[str], values: list[Any]) -> M:
    """`model.from_db(alias, names, values)` for a row of all its concrete fields, in order."""
    if not _filled_in(model) or pre_init.has_listeners(model) or post_init.has_listeners(model):
        return model.from_db(alias, names, values)
    obj = model.__new__(model)
    state = ModelState()
    state.adding = False
    state.db = alias
    obj.__dict__.update(zip(names, values, strict=True))
    obj._state = state
    return obj


def select(
    model: type[M],
    where: str,
    params: Sequence[Any] = (),
    *,
    related: tuple[str, ...] = (),
    annotate: dict[str, str] | None = None,
    order_by: str = "",
) -> list[M]:
    """Instances of `model` (with the forward foreign keys in `related` loaded, like
    `select_related`) for a WHERE clause written against the aliases t0 (the model), t1, ...
    (each of `related` in order). `annotate` names SQL expressions (on the same aliases, no
    parameters) whose raw values are set as attributes of each instance, like `annotate()`."""
    extra = tuple(annotate or ())
    db = default_db()
    parts, head = _select_plan(model, related, tuple(annotate[n] for n in extra), db.vendor)
    sql = f"{head} WHERE {where}"
    if order_by:
        sql += f" ORDER BY {order_by}"
    with cursor(db) as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    out = []
    alias = db.alias
    for row in rows:
        start = 0
        by_path: dict[str, models.Model | None] = {}
        for path, m, _, fk, names, convs in parts:
            values = _converted(list(row[start : start + len(names)]), convs, db)
            start += len(names)
            obj = _instance(m, alias, names, values) if values[0] is not None else None
            by_path[path] = obj
            if fk is not None:
                parent = by_path[path.rpartition("__")[0]]
                if parent is not None:
                    fk.set_cached_value(parent, obj)
        for name, value in zip(extra, row[start:], strict=True):
            setattr(by_path[""], name, value)
        out.append(by_path[""])
    return out


@cache
def _values_plan(model: type[models.Model], fields: tuple[str, ...], vendor: str):
    columns = [model._meta.get_field(name) for name in fields]
    head = f"SELECT {', '.join(f't0.{qn(f.column)}' for f in columns)} FROM {table(model)} t0"
    return head, [_converters(f) for f in columns]


def values(
    model: type[models.Model], fields: tuple[str, ...], where: str, params: Sequence[Any] = ()
) -> list[tuple]:
    """`model.objects.filter(…).values_list(*fields)` for a WHERE clause written against t0: the
    fields' values as the ORM reads them (datetimes aware, times as times), one tuple a row."""
    db = default_db()
    head, convs = _values_plan(model, fields, db.vendor)
    with cursor(db) as cur:
        cur.execute(f"{head} WHERE {where}", params)
        rows = cur.fetchall()
    if not any(convs):
        return [tuple(row) for row in rows]
    return [tuple(_converted(list(row), convs, db)) for row in rows]


def one_of(expression: str) -> str:
    """`expression` is one of the integers of a list sent as a single parameter (`integers`):
    the statement's text is the same whatever the list's length, so PostgreSQL plans it once,
    and the list costs one parameter instead of one per item."""
    if default_db().vendor == "postgresql":
        return f"{expression} = ANY(%s::bigint[])"
    return f"{expression} IN (SELECT value FROM json_each(%s))"


def integers(items: Sequence[int]) -> Any:
    """The parameter for `one_of`."""
    items = [int(i) for i in items]
    return items if default_db().vendor == "postgresql" else json.dumps(items)


def id_list(items: Sequence[int]) -> RawSQL:
    """A subquery of the given integers for the ORM's `__in` lookups: one parameter however
    many there are (a round's ten thousand orders would pass SQLite's limit of parameters as
    a plain list, and cost PostgreSQL one placeholder each)."""
    if default_db().vendor == "postgresql":
        return RawSQL("SELECT unnest(%s::bigint[])", (integers(items),))
    return RawSQL("SELECT value FROM json_each(%s)", (integers(items),))


def select_one(
    model: type[M],
    where: str,
    params: Sequence[Any] = (),
    *,
    related: tuple[str, ...] = (),
    annotate: dict[str, str] | None = None,
) -> M | None:
    rows = select(model, where, params, related=related, annotate=annotate)
    return rows[0] if rows else None
