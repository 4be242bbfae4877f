"""Connections, names and plain statements for the hot-path helpers (see the package)."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from functools import lru_cache
from typing import Any, TypeVar

from django.db import DEFAULT_DB_ALIAS, connection, connections, models
from django.db.backends.sqlite3.base import FORMAT_QMARK_REGEX

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
