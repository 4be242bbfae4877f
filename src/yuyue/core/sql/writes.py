"""Inserts built once: one model's rows, several models' rows together, and PostgreSQL's
INSERT … SELECT from a JSON source (see the package)."""

from __future__ import annotations

import datetime as dt
import decimal
import json
import uuid
from collections.abc import Sequence
from functools import cache, partial
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connection, models
from django.db.models.fields import AutoFieldMixin
from django.db.models.signals import post_save, pre_save
from psycopg.types.json import Json, Jsonb

from .base import M, cursor, default_db, qn


@cache
def _insert_plan(
    model: type[models.Model], vendor: str, vary: frozenset[str] | None = None
) -> tuple[list, list, list[str], str, str]:
    """Fields sent as parameters, the fields written as constants (each with its value), the
    row's cells ("%s" or a literal, one per column), `INSERT INTO t (columns)`, and
    ` RETURNING pk` for a key the database draws ("" when the key is a value of ours, e.g. a
    UUID, which is sent with the row).

    With `vary` (field names), only those fields are parameters; every other field is written
    into the statement as the SQL literal of its default, computed once: a row's many columns
    that hold the same value in every row cost nothing per row (a hall booking has 31 columns,
    14 of which vary). A row whose value differs from such a default is refused, not dropped.
    """
    meta = model._meta
    assert not any(f.has_db_default() for f in meta.concrete_fields), "db_default: use the ORM"
    drawn = meta.pk.db_returning
    fields = [f for f in meta.concrete_fields if not (drawn and f.primary_key)]
    sent, fixed, cells = [], [], []
    for f in fields:
        if vary is None or f.name in vary:
            sent.append(f)
            cells.append("%s")
            continue
        assert not getattr(f, "auto_now", False) and not getattr(f, "auto_now_add", False), f
        assert not (f.has_default() and callable(f.default)) or f.default in (dict, list), f.name
        default = f.get_default()
        fixed.append((f, default))
        cells.append(_literal(f, default))
    head = f"INSERT INTO {qn(meta.db_table)} ({', '.join(qn(f.column) for f in fields)})"
    return sent, fixed, cells, head, f" RETURNING {qn(meta.pk.column)}" if drawn else ""


def _literal(field, value) -> str:
    """The SQL literal of a field's value, as the schema editor writes a column default."""
    connection.ensure_connection()
    text = str(
        connection.SchemaEditorClass(connection).quote_value(
            field.get_db_prep_save(value, connection)
        )
    )
    assert "%" not in text and "?" not in text, f"{field.name}: no placeholder characters"
    return text


def _rows(
    model: type[models.Model], objs: Sequence[models.Model], vary: frozenset[str] | None, db
) -> tuple[str, list, str]:
    """`INSERT … VALUES (…), (…)` for `objs` with their values (defaults and `auto_now_add`
    filled in as `save()` does), and the ` RETURNING pk` clause for a key the database draws."""
    fields, _, cells, head, returning = _insert_plan(model, db.vendor, vary)
    row = "(" + ", ".join(cells) + ")"
    values = row_values(model, objs, vary, db=db)
    return f"{head} VALUES {row}" + "".join(", " + row for _ in objs[1:]), values, returning


def row_values(
    model: type[models.Model],
    objs: Sequence[models.Model],
    vary: frozenset[str] | None = None,
    skip: frozenset[str] = frozenset(),
    db: Any = None,
) -> list[Any]:
    """The parameters of `objs`' rows (`vary`: see `_insert_plan`; `skip`: sent fields the
    statement computes itself, see `insert_select`), one row after another."""
    db = default_db() if db is None else db
    fixed, plan = _prep_plan(model, db.vendor, vary, skip)
    values: list[Any] = []
    append = values.append
    for obj in objs:
        for f, default in fixed:
            if getattr(obj, f.attname) != default:
                raise ValueError(f"{model.__name__}.{f.name} is written as its default here")
        for f, attname, presave, plain, wrap in plan:
            value = f.pre_save(obj, True) if presave else getattr(obj, attname)
            if value is None:
                append(None)  # every field prepares None as None
            elif type(value) is plain and (plain is not dt.datetime or value.tzinfo is not None):
                append(value if wrap is None else wrap(value))
            else:
                append(f.get_db_prep_save(value, db))
    return values


# Field classes whose preparation of a value of exactly this type is the value itself (`int(v)`,
# `str(v)`, `bool(v)`), or on PostgreSQL the integer in the type Django binds it as (Int2, Int4,
# Int8). Exact classes only: a subclass that converts (an encrypted text, say) always goes
# through its own method, and so does a value of any other type.
_PLAIN = {
    models.AutoField: int,
    models.BigAutoField: int,
    models.SmallAutoField: int,
    models.IntegerField: int,
    models.BigIntegerField: int,
    models.SmallIntegerField: int,
    models.PositiveIntegerField: int,
    models.PositiveBigIntegerField: int,
    models.PositiveSmallIntegerField: int,
    models.CharField: str,
    models.TextField: str,
    models.BooleanField: bool,
}


def _plain(field, db) -> tuple[type | None, Any]:
    """The type whose values `field` hands to the database unchanged (or None), and what
    wraps them on the way (None, or the driver's integer type, or for SQLite, which stores a
    datetime as text, the text Django's SQLite backend makes of it). Datetimes only when aware."""
    if isinstance(field, models.ForeignKey):
        return _plain(field.target_field, db)
    if type(field) is models.DateTimeField:
        if db.vendor == "postgresql":
            return dt.datetime, None
        if db.vendor == "sqlite" and db.timezone is not None:
            return dt.datetime, partial(_sqlite_datetime, db.timezone)
        return None, None
    kind = _PLAIN.get(type(field))
    if kind is int and db.vendor == "postgresql" and not isinstance(field, AutoFieldMixin):
        # what `adapt_integerfield_value` does (the types keep prepared statements' parameter
        # types fixed); auto fields (and keys pointing at them) go as plain ints
        return int, db.ops.integerfield_type_map[field.get_internal_type()]
    return kind, None


def _sqlite_datetime(zone: dt.tzinfo, value: dt.datetime) -> str:
    """An aware datetime as `DatabaseOperations.adapt_datetimefield_value` of SQLite writes it:
    naive in the connection's zone (`timezone.make_naive`), as `str()` gives it."""
    return str(value.astimezone(zone).replace(tzinfo=None))


@cache
def _prep_plan(
    model: type[models.Model], vendor: str, vary: frozenset[str] | None, skip: frozenset[str]
) -> tuple[list, list[tuple]]:
    """`row_values`' plan: the constant fields with their defaults, and for each sent field
    (field, attname, whether `pre_save` fills it in, `_plain`'s type and wrapper)."""
    db = default_db()
    fields, fixed, _, _, _ = _insert_plan(model, vendor, vary)
    plan = []
    for f in fields:
        if f.name in skip:
            continue
        if isinstance(f, models.DateField):  # its pre_save fills in auto_now(_add) only
            presave = f.auto_now or f.auto_now_add
        else:
            presave = type(f).pre_save is not models.Field.pre_save
        plan.append((f, f.attname, presave, *_plain(f, db)))
    return fixed, plan


def source_rows(
    model: type[models.Model],
    objs: Sequence[models.Model],
    keys: Sequence[int],
    vary: frozenset[str] | None = None,
    skip: frozenset[str] = frozenset(),
) -> str:
    """`insert_select`'s source parameter: each of `objs`' rows (`row_values`), led by its key
    from `keys`, in one JSON array of arrays. One text parameter, whatever the number of rows
    and columns: the driver adapts it in C, where an array parameter per column cost more than
    the rest of a hall booking's statement."""
    db = default_db()
    width = len([f for f in _insert_plan(model, db.vendor, vary)[0] if f.name not in skip])
    flat = row_values(model, objs, vary, skip, db)
    rows = [[k, *flat[i * width : (i + 1) * width]] for i, k in enumerate(keys)]
    assert len(rows) == len(objs), "one key per row"
    return _json.encode(rows)


def _json_cell(value: Any) -> Any:
    """A database value that JSON has no type for, as the text its column's cast reads."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Json | Jsonb):  # a JSON column's value, as the field would dump it
        return (value.dumps or json.dumps)(value.obj)
    if isinstance(value, uuid.UUID | decimal.Decimal):
        return str(value)
    raise TypeError(f"no JSON form for a {type(value).__name__} column value")


_json = json.JSONEncoder(default=_json_cell, separators=(",", ":"), allow_nan=False)


@cache
def insert_select(
    model: type[models.Model],
    vary: frozenset[str] | None,
    source: str,
    computed: tuple[tuple[str, str], ...] = (),
) -> tuple[str, str, dict[str, str]]:
    """PostgreSQL: `INSERT INTO t (columns) SELECT …` for a statement that inserts rows which
    depend on another part's RETURNING (a booking's participants on its new key, say), and its
    row source `(SELECT (v->>0)::integer AS k, (v->>1)::type AS c0, … FROM
    jsonb_array_elements(%s::jsonb) …) AS source`: one JSON parameter (`source_rows`) whatever
    the number of rows, so that the statement's text, and with it its prepared plan, is the
    same for one row or fifty. `k` is the caller's, to match rows.

    Each sent field is taken from the source's column, but for the `computed` ones ((field name,
    SQL expression) pairs, e.g. the new booking's key), which the source does not carry
    (`source_rows(..., skip=...)` leaves them out); constants are literals as in
    `_insert_plan`. Also
    returns the source's columns by field name ({"slot": "c3", …}, in order)."""
    db = default_db()
    fields, _, cells, head, _ = _insert_plan(model, db.vendor, vary)
    exprs = dict(computed)
    taken = iter(fields)
    select, casts, columns = [], ["(v->>0)::integer AS k"], {}
    for cell in cells:
        if cell != "%s":
            select.append(cell)
            continue
        f = next(taken)
        expr = exprs.get(f.name)
        if expr is not None:
            select.append(expr)
            continue
        name = f"c{len(columns)}"
        columns[f.name] = name
        select.append(f"{source}.{name}")
        casts.append(f"(v->>{len(columns)})::{f.cast_db_type(db)} AS {name}")
    return (
        f"{head} SELECT {', '.join(select)}",
        f"(SELECT {', '.join(casts)} FROM jsonb_array_elements(%s::jsonb) AS e (v)) AS {source}",
        columns,
    )


def insert_many(objs: Sequence[M], *, vary: frozenset[str] | None = None) -> Sequence[M]:
    """INSERT new instances of one model in one statement (like `Model.save()` for each: defaults
    and `auto_now_add` are filled in, and each gets its primary key). `vary`: see `_insert_plan`."""
    if not objs:
        return objs
    model = type(objs[0])
    _before(model, objs)
    db = default_db()
    sql, values, returning = _rows(model, objs, vary, db)
    sql += returning
    with cursor(db) as cur:
        cur.execute(sql, values)
        keys = cur.fetchall() if returning else [(obj.pk,) for obj in objs]
    for obj, (pk,) in zip(objs, keys, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = DEFAULT_DB_ALIAS
    _after(model, objs)
    return objs


def _before(model, objs) -> None:
    if pre_save.has_listeners(model):
        for obj in objs:
            pre_save.send(
                model, instance=obj, raw=False, using=DEFAULT_DB_ALIAS, update_fields=None
            )


def _after(model, objs) -> None:
    if post_save.has_listeners(model):
        for obj in objs:
            post_save.send(
                model,
                instance=obj,
                created=True,
                update_fields=None,
                raw=False,
                using=DEFAULT_DB_ALIAS,
            )


def insert(obj: M, *, unless_taken: str | None = None) -> M | None:
    """INSERT one new instance (like `obj.save()` for a new row); sets its primary key.

    With `unless_taken` (a field with a unique constraint), a row whose value is already taken
    is not inserted (ON CONFLICT DO NOTHING) and None is returned: the caller draws another
    value, with no savepoint needed. Any other constraint still raises IntegrityError."""
    if unless_taken is None:
        return insert_many([obj])[0]
    inserted = insert_unless_taken([obj], unless_taken)
    return inserted[0] if inserted else None


def insert_unless_taken(
    objs: Sequence[M], unique: str, *, vary: frozenset[str] | None = None
) -> list[M]:
    """INSERT new instances of one model in one statement, skipping each whose `unique` field's
    value is taken already (ON CONFLICT DO NOTHING); returns those inserted, with their keys."""
    if not objs:
        return []
    model = type(objs[0])
    _before(model, objs)
    db = default_db()
    sql, values, _ = _rows(model, objs, vary, db)
    field = model._meta.get_field(unique)
    pk = model._meta.pk
    sql += _unless_taken(model, unique, db.vendor)
    with cursor(db) as cur:
        cur.execute(sql, values)
        keys = dict((str(value), key) for key, value in cur.fetchall())
    inserted = []
    for obj in objs:
        key = keys.pop(str(getattr(obj, field.attname)), None)
        if key is None:
            continue
        if pk.db_returning:
            obj.pk = key
        obj._state.adding = False
        obj._state.db = DEFAULT_DB_ALIAS
        inserted.append(obj)
    _after(model, inserted)
    return inserted


@cache
def _unless_taken(model: type[models.Model], unique: str, vendor: str) -> str:
    """`insert_unless_taken`'s ON CONFLICT and RETURNING clauses."""
    column = qn(model._meta.get_field(unique).column)
    return f" ON CONFLICT ({column}) DO NOTHING RETURNING {qn(model._meta.pk.column)}, {column}"


def insert_together(groups: Sequence[tuple[Sequence[models.Model], frozenset[str] | None]]) -> None:
    """INSERT several lists of new instances (each of one model, with its `vary`) at once: on
    PostgreSQL one statement (each list an INSERT in a WITH clause: one round trip and one
    statement's overhead for all), elsewhere one statement each. Keys the database draws are not
    read back (the instances keep `pk` None): use `insert_many` where the caller needs them."""
    groups = [(objs, vary) for objs, vary in groups if objs]
    statements: list[str] = []
    values: list[Any] = []
    db = default_db()
    for objs, vary in groups:
        _before(type(objs[0]), objs)
        statement, params, _ = _rows(type(objs[0]), objs, vary, db)
        statements.append(statement)
        values.append(params)
    if not statements:
        return
    with cursor(db) as cur:
        if db.vendor == "postgresql":
            head = ", ".join(f"w{i} AS ({s})" for i, s in enumerate(statements[:-1]))
            cur.execute(
                (f"WITH {head} " if head else "") + statements[-1],
                [v for params in values for v in params],
            )
        else:
            for statement, params in zip(statements, values, strict=True):
                cur.execute(statement, params)
    for objs, _ in groups:
        for obj in objs:
            obj._state.adding = False
            obj._state.db = DEFAULT_DB_ALIAS
        _after(type(objs[0]), objs)
