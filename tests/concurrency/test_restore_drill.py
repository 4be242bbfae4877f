"""The restore drill: a backup taken while customers book and pay is restored into a new
database, whose every table has the rows of the backup's moment and whose ledger balances.

Runs on the suite's database (SQLite, and PostgreSQL in CI: pg_dump of an exported snapshot)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from django.db import connection

from tests.billing.conftest import fund
from tests.livesrv import PROJECT_DIR, bearer, current_database_url
from yuyue.billing.models import Payment, Transfer
from yuyue.billing.payments import wallet
from yuyue.core.backups import BackupError, backup, restore, tables
from yuyue.orders.models import Booking
from yuyue.scheduling.models import TimeSlot

from .conftest import people_with_keys

CUSTOMERS = 6
pytestmark = pytest.mark.django_db(transaction=True)


def _load(server, slot, people, stop: threading.Event, done: list) -> None:
    """Each customer books a place and pays it from the wallet, again and again."""

    def customer(key):
        with httpx.Client(base_url=server.url, headers=bearer(key), timeout=30) as http:
            while not stop.is_set():
                r = http.post("/api/bookings", json={"slot_id": slot.pk, "places": 1})
                if r.status_code == 201:
                    paid = http.post(f"/api/bookings/{r.json()['id']}/pay/wallet", json={})
                    done.append(paid.status_code)

    threads = [threading.Thread(target=customer, args=(key,)) for _, key in people]
    for t in threads:
        t.start()
    return threads


def _counts() -> tuple[int, int, int]:
    return Booking.objects.count(), Payment.objects.count(), Transfer.objects.count()


@pytest.fixture
def target_url(tmp_path):
    """A new, empty database of the suite's kind."""
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'restored.sqlite3'}"
        return
    name = f"{connection.settings_dict['NAME']}_restored"[:63]
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    from tests.livesrv import database_url

    yield database_url({**connection.settings_dict, "NAME": name})
    with connection.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_a_backup_taken_under_load_restores_exactly_and_balances(
    server, hall_service, hall, tmp_path, target_url
):
    hall_service.base_price_fen = 2000
    hall_service.per_user_limit = 1000
    hall_service.save()
    start = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    slot = TimeSlot.objects.create(
        service=hall_service,
        hall=hall,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        capacity=100_000,
    )
    people = people_with_keys(CUSTOMERS)
    for user, _ in people:
        fund(wallet(user.pk), 10_000_000, key=f"drill-fund-{user.pk}")
    media = tmp_path / "media"
    (media / "credentials").mkdir(parents=True)
    (media / "credentials" / "id.jpg").write_bytes(b"\xff\xd8 a picture")

    stop, done = threading.Event(), []
    threads = _load(server, slot, people, stop, done)
    try:
        while len(done) < 20:  # the load is on
            time.sleep(0.05)
        before = _counts()
        folder = Path(manage("backup", str(tmp_path / "backups"), media=media).strip())
        after = _counts()
        while len(done) < 40:  # and goes on after
            time.sleep(0.05)
    finally:
        stop.set()
        for t in threads:
            t.join(30)
    assert set(done) == {200}, done
    manifest = json.loads((folder / "manifest.json").read_text())
    counts = manifest["counts"]
    taken = (counts["orders_booking"], counts["billing_payment"], counts["billing_transfer"])
    assert all(b <= t <= a for b, t, a in zip(before, taken, after, strict=True)), (
        before,
        taken,
        after,
    )
    assert set(counts) == set(tables())
    assert _counts()[0] > taken[0]  # bookings went on after the backup's moment

    media = tmp_path / "restored-media"
    said = manage("restore", str(folder), "--database-url", target_url, media=media)
    assert "all matching; the ledger balances" in said  # it checked rows and the ledger itself
    assert (media / "credentials" / "id.jpg").read_bytes() == b"\xff\xd8 a picture"
    with plain_connection(target_url) as db:
        db.execute("SELECT count(*) FROM orders_booking")
        assert db.fetchone()[0] == taken[0]
        db.execute("SELECT coalesce(sum(amount), 0) FROM billing_entry")
        assert db.fetchone()[0] == 0  # money moved, none made or lost
        db.execute("SELECT count(*) FROM scheduling_timeslot WHERE booked > capacity")
        assert db.fetchone()[0] == 0

    with pytest.raises(subprocess.CalledProcessError) as refused:
        manage("restore", str(folder), "--database-url", target_url, media=media)
    assert "not empty" in refused.value.stderr or "exists" in refused.value.stderr


def test_a_damaged_backup_is_refused(tmp_path, target_url):
    folder = backup(tmp_path)
    dump = next(p for p in folder.iterdir() if p.name.startswith("database."))
    with dump.open("r+b") as f:
        f.seek(200)
        f.write(b"\0damage\0")
    with pytest.raises(BackupError, match="database.* is missing or damaged"):
        restore(folder, database_url=target_url)


def manage(*args: str, media: Path | None = None) -> str:
    """`manage.py <args>` as an operator runs it, on the suite's database."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "yuyue.test_settings"}
    env["DATABASE_URL"] = current_database_url()
    if media is not None:
        env["YUYUE_MEDIA_ROOT"] = str(media)
    done = subprocess.run(
        [sys.executable, "-m", "django", *args],
        env=env,
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise subprocess.CalledProcessError(done.returncode, args, done.stdout, done.stderr)
    return done.stdout


@contextlib.contextmanager
def plain_connection(url: str):
    """A cursor on the restored database, outside Django (the suite may not touch it)."""
    if url.startswith("sqlite"):
        db = sqlite3.connect(url.removeprefix("sqlite:///"))
        try:
            yield db.cursor()
        finally:
            db.close()
        return
    import psycopg

    with psycopg.connect(url.replace("postgres://", "postgresql://")) as db:
        yield db.cursor()
