"""Hot-path statements built once, not on every call.

The ORM builds and compiles its SQL anew for every queryset call (lookups, joins, select lists,
ordering): for a hall-slot booking that was most of the request's time, far more than the
database's own work. These helpers build each statement once per model (and database vendor)
from the models' metadata, and convert values with the fields' own methods, so encrypted and
JSON fields, aware datetimes and booleans read and write exactly as through the ORM. They work
on SQLite and PostgreSQL alike (both have RETURNING) and leave every guard where it was: in the
database's constraints and conditional statements. An insert sends `pre_save` and `post_save`
as `save()` does, when anything listens (django-tasks-db does, for its job rows). Statements run
on the driver's own cursor (`cursor()`), or on Django's while anything watches statements.

Use them only where a request's cost matters; everywhere else the ORM is clearer.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import inspect
import json
import sqlite3
import uuid
from collections.abc import Iterator, Sequence
from functools import cache, lru_cache, partial
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX
from django.db.models.base import ModelState
from django.db.models.fields import AutoFieldMixin
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query_utils import DeferredAttribute
from django.db.models.signals import post_init, post_save, pre_init, pre_save
from psycopg.types.json import Json, Jsonb

M = TypeVar("M", bound=models.Model)


def default_db():
    """The default database's wrapper itself: `django.db.connection` is a proxy that looks the
    wrapper up (through a context-local, about 1.2 µs here) on every attribute. Hot paths look
    it up once and hand it on."""
    return connections[DEFAULT_DB_ALIAS]


# --- running statements ------------------------------------------------------------------------


class _SQLiteCursor:
    """sqlite3's own cursor, given the statements in the "%s" style the rest of Django uses.

    Django's SQLite cursor rewrites each statement's placeholders with a regular expression on
    every call; here each distinct statement is rewritten once (`_qmark`)."""

    __slots__ = ("_cursor",)

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    def execute(self, statement: str, params: Sequence[Any] | None = None):
        if params is None:
            return sqlite3.Cursor.execute(self._cursor, statement)
        return sqlite3.Cursor.execute(self._cursor, _qmark(statement), params)

    def fetchone(self):
        return self._cursor.fetchone()

    def fetchall(self):
        return self._cursor.fetchall()

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount


@lru_cache(maxsize=1024)
def _qmark(statement: str) -> str:
    """What Django's SQLite cursor makes of a "%s"-style statement (`convert_query`, with its
    own pattern)."""
    return FORMAT_QMARK_REGEX.sub("?", statement).replace("%%", "%")


@contextlib.contextmanager
def cursor(db: Any = None) -> Iterator[Any]:
    """A cursor for the statements written here: the driver's own, without the work Django's
    wrapper does again for every statement (about 12 µs of a statement's 17 µs on SQLite here),
    with the same checks once per use: the connection opened (and health-checked), this
    thread's own, no broken transaction, and driver errors raised as Django's (IntegrityError
    and the rest). While anything watches statements (DEBUG's log, `CaptureQueriesContext`,
    `assertNumQueries`, an `execute_wrapper`) it is Django's cursor, so they see every one.
    `db`: the default database's wrapper, if the caller has it already (`default_db()`)."""
    db = default_db() if db is None else db
    if db.queries_logged or db.execute_wrappers:
        with db.cursor() as wrapped:
            yield wrapped
        return
    db.close_if_health_check_failed()
    db.ensure_connection()
    db.validate_thread_sharing()
    db.validate_no_broken_transaction()
    with db.wrap_database_errors:
        raw = db.create_cursor()
        try:
            yield _SQLiteCursor(raw) if db.vendor == "sqlite" else raw
        finally:
            raw.close()


def qn(name: str) -> str:
    return connection.ops.quote_name(name)


def table(model: type[models.Model]) -> str:
    """The model's quoted table name, for statements written by hand."""
    return qn(model._meta.db_table)


def column(model: type[models.Model], field: str) -> str:
    """`"table"."column"` of a model's field, for statements written by hand."""
    return f"{table(model)}.{qn(model._meta.get_field(field).column)}"


def param(model: type[models.Model], field: str, value: Any) -> Any:
    """`value` as the database stores it in that field (e.g. an aware datetime for SQLite)."""
    return model._meta.get_field(field).get_db_prep_value(value, default_db())


# --- writing -----------------------------------------------------------------------------------


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


def execute(sql: str, params: Sequence[Any]) -> int:
    """Run a statement written by hand; its row count."""
    with cursor() as cur:
        cur.execute(sql, params)
        return cur.rowcount


# --- reading -----------------------------------------------------------------------------------


def fetch_one(sql: str, params: Sequence[Any] = ()) -> tuple | None:
    """The first row of a query written by hand, as the driver returns it (plain values only:
    no field conversions, so read ints and strings this way, not datetimes or JSON)."""
    with cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchone()


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
