"""Which migrations would lock a hot table while the old version still serves.

An upgrade runs `migrate` while the previous release keeps answering (docs/operations.md,
"Upgrades"). On PostgreSQL some operations hold an ACCESS EXCLUSIVE lock on their table, or
rewrite it, or scan it under a lock, for as long as the table is big; on the tables every booking
touches (YUYUE_HOT_TABLES) that stalls the platform. This reads each migration's operations (no
database needed) and names those that would; migrations already shipped are listed in
`deploy/migrations-shipped.txt` and not held to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import migrations
from django.db.models.fields import NOT_PROVIDED

try:  # PostgreSQL's online variants, where django.contrib.postgres is importable
    from django.contrib.postgres.operations import (
        AddConstraintNotValid,
        AddIndexConcurrently,
        RemoveIndexConcurrently,
        ValidateConstraint,
    )

    ONLINE = (
        AddIndexConcurrently,
        RemoveIndexConcurrently,
        AddConstraintNotValid,
        ValidateConstraint,
    )
except ImportError:  # pragma: no cover - psycopg is a dependency
    ONLINE = ()


@dataclass(frozen=True)
class Lock:
    migration: str  # app_label.name
    operation: str
    table: str  # app_label.model
    why: str


# what of a field the database sees (choices, help texts, validators, Python defaults it does not)
DB_SHAPE = (
    "max_length",
    "null",
    "max_digits",
    "decimal_places",
    "unique",
    "db_index",
    "db_column",
    "db_default",
    "to",
    "primary_key",
)


def _db_shape(field) -> tuple:
    _name, path, _args, kwargs = field.deconstruct()
    return (path, tuple((k, repr(kwargs.get(k))) for k in DB_SHAPE))


def why_locked(operation, app_label: str, before=None) -> tuple[str, str] | None:
    """(table, why) if the operation holds a hot table long, else None. `before`: the project
    state before the migration (to tell an AlterField the database sees from one it does not)."""
    if isinstance(operation, ONLINE):
        return None
    name = getattr(operation, "model_name", None) or getattr(operation, "name", "") or ""
    table = f"{app_label}.{name.lower()}"
    if table not in {t.lower() for t in settings.YUYUE_HOT_TABLES}:
        return None
    if isinstance(operation, migrations.AddIndex):
        return table, "CREATE INDEX blocks writes while it builds: use AddIndexConcurrently"
    if isinstance(operation, migrations.AddConstraint):
        return table, "the constraint is checked against every row under lock: add it NOT VALID"
    if isinstance(operation, migrations.AddField):
        field = operation.field
        if not field.null and field.db_default is NOT_PROVIDED:
            # Django drops a Python default once the column exists: the old release's inserts
            # (which do not name the column) would then fail
            return table, "NOT NULL without a db_default: the old release's inserts would fail"
        return None
    if isinstance(operation, migrations.AlterField):
        if before is not None:
            old = before.models[app_label, operation.model_name.lower()].fields.get(operation.name)
            if old is not None and _db_shape(old) == _db_shape(operation.field):
                return None  # choices, help text, validators: nothing for the database
        return table, "a type or NULL change rewrites or scans the table under lock"
    if isinstance(operation, migrations.RenameField | migrations.RemoveField):
        return (
            table,
            "the old release still reads the column: expand, then contract a release later",
        )
    if isinstance(operation, migrations.RenameModel | migrations.DeleteModel):
        return table, "the old release still uses the table"
    return None


def shipped_file() -> Path:
    return Path(settings.PROJECT_DIR) / "deploy" / "migrations-shipped.txt"


def shipped() -> set[str]:
    path = shipped_file()
    if not path.exists():
        return set()
    return {line.strip() for line in path.read_text().splitlines() if line.strip()[:1].isalnum()}


def find_locks(*, include_shipped: bool = False) -> list[Lock]:
    """Every lock a migration of ours would take on a hot table (not those already shipped)."""
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    done = set() if include_shipped else shipped()
    found = []
    for (app_label, name), migration in sorted(loader.disk_migrations.items()):
        if not migration.__module__.startswith("yuyue.") or f"{app_label}.{name}" in done:
            continue
        before = loader.project_state((app_label, name), at_end=False)
        created = {
            op.name.lower() for op in migration.operations if isinstance(op, migrations.CreateModel)
        }
        for operation in migration.operations:
            if (getattr(operation, "model_name", "") or "").lower() in created:
                continue  # a table this migration makes is empty and unused
            locked = why_locked(operation, app_label, before)
            if locked:
                found.append(
                    Lock(f"{app_label}.{name}", type(operation).__name__, locked[0], locked[1])
                )
    return found


def all_migrations() -> list[str]:
    from django.db.migrations.loader import MigrationLoader

    loader = MigrationLoader(None, ignore_no_migrations=True)
    return sorted(
        f"{app}.{name}"
        for (app, name), m in loader.disk_migrations.items()
        if m.__module__.startswith("yuyue.")
    )
