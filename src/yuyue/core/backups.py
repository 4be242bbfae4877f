"""Backups and restores of the database and the uploaded files (`manage.py backup`, `restore`).

A backup is a folder `yuyue-<UTC time>/` with:
- `database.dump` (PostgreSQL: `pg_dump --format=custom`) or `database.sqlite3` (SQLite's online
  backup API: a consistent copy while the platform writes);
- `media.tar.gz`, the uploaded files (MEDIA_ROOT);
- `manifest.json`: when, which database, the rows of every table **in the backup's own
  snapshot**, and each file's sha256.

On PostgreSQL the rows are counted in a REPEATABLE READ transaction whose snapshot pg_dump then
dumps (`pg_export_snapshot`, `pg_dump --snapshot`), so the counts are exactly the dump's however
busy the platform is. A restore refuses a damaged file (sha256), writes into an empty database
(PostgreSQL) or a new file (SQLite), unpacks the files, then checks the restored database: every
table's rows equal the manifest's and every check registered with `after_restore` passes (the
ledger balances: `billing` registers it). It knows no business itself: tables come from the
installed models.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
from collections.abc import Callable
from pathlib import Path

import dj_database_url
from django.apps import apps
from django.conf import settings
from django.db import connection, connections, transaction

FORMAT = 1
TARGET = "restore_target"  # the connection alias of the database a restore writes
# name -> check(alias) returning a list of problems (empty: fine); registered by the parts
RESTORE_CHECKS: dict[str, Callable[[str], list[str]]] = {}


class BackupError(RuntimeError):
    pass


def after_restore(name: str):
    """Register `check(alias) -> [problems]`, run on a restored database."""

    def register(check):
        RESTORE_CHECKS[name] = check
        return check

    return register


def tables() -> list[str]:
    """Every table of the installed models (proxies and unmanaged ones aside), sorted."""
    found = {
        m._meta.db_table
        for m in apps.get_models(include_auto_created=True)
        if m._meta.managed and not m._meta.proxy
    }
    return sorted(found)


def count_rows(cursor, quote: Callable[[str], str]) -> dict[str, int]:
    counts = {}
    for table in tables():
        cursor.execute(f"SELECT count(*) FROM {quote(table)}")
        counts[table] = cursor.fetchone()[0]
    return counts


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _pg_env(db: dict) -> tuple[list[str], dict[str, str]]:
    """pg_dump/pg_restore's connection options for a Django settings dict (password by env)."""
    args = ["--host", db.get("HOST") or "127.0.0.1", "--port", str(db.get("PORT") or 5432)]
    if db.get("USER"):
        args += ["--username", db["USER"]]
    env = {**os.environ, "PGPASSWORD": db.get("PASSWORD") or "", "PGCONNECT_TIMEOUT": "10"}
    return args, env


def _run(cmd: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{cmd[0]} failed ({done.returncode}): {done.stderr.strip()[-2000:]}")


def _dump_postgresql(out: Path) -> dict[str, int]:
    db = connection.settings_dict
    args, env = _pg_env(db)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        snapshot = cursor.fetchone()[0]
        counts = count_rows(cursor, connection.ops.quote_name)
        # pg_dump sees exactly this snapshot while this transaction stays open
        _run(
            ["pg_dump", *args, "--format=custom", "--no-owner", "--no-privileges"]
            + ["--snapshot", snapshot, "--file", str(out / "database.dump"), db["NAME"]],
            env,
        )
    return counts


def _dump_sqlite(out: Path) -> dict[str, int]:
    target = out / "database.sqlite3"
    source = sqlite3.connect(str(connection.settings_dict["NAME"]), timeout=60)
    copy = sqlite3.connect(str(target))
    try:
        source.backup(copy)  # one step: a consistent copy beside the platform's writers
        counts = count_rows(copy.cursor(), lambda t: f'"{t}"')
    finally:
        copy.close()
        source.close()
    return counts


def backup(into: Path, *, now: dt.datetime | None = None) -> Path:
    """Back up the database and the uploaded files into a new folder under `into`."""
    now = now or dt.datetime.now(dt.UTC)
    out = Path(into) / f"yuyue-{now:%Y%m%dT%H%M%S%fZ}"
    out.mkdir(parents=True)
    vendor = connection.vendor
    if vendor == "postgresql":
        counts = _dump_postgresql(out)
    elif vendor == "sqlite":
        counts = _dump_sqlite(out)
    else:
        raise BackupError(f"no backup for {vendor}")
    media = Path(settings.MEDIA_ROOT)
    with tarfile.open(out / "media.tar.gz", "w:gz") as tar:
        if media.is_dir():
            tar.add(media, arcname="media")
    files = sorted(p.name for p in out.iterdir())
    manifest = {
        "format": FORMAT,
        "created_at": now.isoformat(),
        "vendor": vendor,
        "counts": counts,
        "sha256": {name: _sha256(out / name) for name in files},
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1, sort_keys=True))
    return out


def read_manifest(folder: Path) -> dict:
    folder = Path(folder)
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{folder} holds no readable manifest.json: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"backup format {manifest.get('format')!r}, expected {FORMAT}")
    for name, digest in manifest["sha256"].items():
        path = folder / name
        if not path.is_file() or _sha256(path) != digest:
            raise BackupError(f"{name} is missing or damaged (its sha256 differs)")
    return manifest


def _target(database_url: str | None) -> dict:
    cfg = dj_database_url.parse(database_url) if database_url else dict(connection.settings_dict)
    cfg["ENGINE"] = cfg["ENGINE"].replace("django_prometheus.db.", "django.db.")
    cfg.pop("TEST", None)
    cfg.setdefault("OPTIONS", {})
    cfg["OPTIONS"] = {k: v for k, v in cfg["OPTIONS"].items() if k != "pool"}
    connections.close_all()
    both = connections.configure_settings({"default": connections.settings["default"], TARGET: cfg})
    connections.settings[TARGET] = both[TARGET]
    connections[TARGET].close()
    return connections.settings[TARGET]


def restore(folder: Path, *, database_url: str | None = None) -> dict:
    """Restore a backup into the (empty) database at `database_url` (default: this platform's)
    and the files into MEDIA_ROOT; then check it. Returns the manifest."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    db = _target(database_url)
    vendor = "postgresql" if "postgresql" in db["ENGINE"] else "sqlite"
    if vendor != manifest["vendor"]:
        raise BackupError(f"a {manifest['vendor']} backup cannot go into {vendor}")
    try:
        if vendor == "postgresql":
            _restore_postgresql(folder, db)
        else:
            _restore_sqlite(folder, db)
        with tarfile.open(folder / "media.tar.gz") as tar:
            media = Path(settings.MEDIA_ROOT)
            media.parent.mkdir(parents=True, exist_ok=True)
            for member in tar.getmembers():  # media/... only, placed under MEDIA_ROOT
                if member.name == "media" or not member.name.startswith("media/"):
                    continue
                member.name = member.name.removeprefix("media/")
                tar.extract(member, media, filter="data")
        problems = verify(manifest["counts"], TARGET)
    finally:
        connections[TARGET].close()
    if problems:
        raise BackupError("the restored database differs: " + "; ".join(problems))
    return manifest


def _restore_postgresql(folder: Path, db: dict) -> None:
    with connections[TARGET].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', "
            "'information_schema')"
        )
        if cursor.fetchone()[0]:
            raise BackupError(f"database {db['NAME']} is not empty: restore into a new one")
    connections[TARGET].close()
    args, env = _pg_env(db)
    _run(
        ["pg_restore", *args, "--no-owner", "--no-privileges", "--exit-on-error"]
        + ["--dbname", db["NAME"], str(folder / "database.dump")],
        env,
    )


def _restore_sqlite(folder: Path, db: dict) -> None:
    path = Path(db["NAME"])
    if path.exists() and path.stat().st_size:
        raise BackupError(f"{path} exists: restore into a new file (move the old one away)")
    path.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(folder / "database.sqlite3", path)


def verify(counts: dict[str, int], alias: str = "default") -> list[str]:
    """What differs between a database and a backup's counts, and what its checks find."""
    conn = connections[alias]
    with conn.cursor() as cursor:
        found = count_rows(cursor, conn.ops.quote_name)
    problems = [
        f"{table}: {found.get(table)} rows, the backup had {n}"
        for table, n in sorted(counts.items())
        if found.get(table) != n
    ]
    for name, check in sorted(RESTORE_CHECKS.items()):
        problems += [f"{name}: {p}" for p in check(alias)]
    return problems
