"""Writing hall-slot bookings: the guarded statements, for one booking or for many at once.

`book_slot` checks a request against the rules and hands the booking, ready to write, to
`write_bookings`. The write is where capacity and the per-user limit are guarded, in the database:

1. the customer's usage rows: `INSERT … ON CONFLICT DO UPDATE SET count = count + 1 WHERE
   count < limit RETURNING …` — a booking whose row is not returned is over its limit;
2. the slots: `UPDATE … SET booked = booked + n WHERE … booked <= capacity - n` (the CHECK
   constraint `booked <= capacity` behind it) — a slot whose row is not updated has no room for
   all of them, and then its bookings are given places one by one, in arrival order, from what
   the slot row (locked) says is left;
3. the bookings that got no place give their usage back; the others are inserted with their
   participants and audit rows. (No job row: an unpaid booking's deadline is `pay_before`,
   which a sweep watches; ADR 0010.)

On PostgreSQL a round of bookings is first written by one statement (`_write_round_at_once`)
that locks the slot rows, raises usage only for bookings whose slot has room for the whole round,
and finishes every booking it starts; so a lone booking's statement needs no transaction around
it. What it leaves goes through the steps above.

**Group commit** (`batching`). Under load, many bookings reach one server process at the same
moment. Written one transaction each, they queue for the same locks (SQLite's one writer,
PostgreSQL's row lock on a hot slot), and each pays for its own round trips and commit. So a
request that finds another one writing waits for it and is then written together with all the
others that arrived meanwhile, in one transaction of a few multi-row statements, by one of them
(the "leader"; the others sleep until their answer is ready). Nobody waits for a batch to fill: a
lone request is written at once, and batches form only while a write is already in progress, so the
queue is the batch. Every guard above holds per booking inside the batch, exactly as for one; the
concurrency tests (real servers, PostgreSQL and SQLite) and `tests/orders/test_slot_writes.py`
check it.

If a batch fails as a whole (an error no rule foresaw), each of its bookings is written again in
a transaction of its own, so one bad booking cannot fail the others. A booking made inside a
transaction the caller holds (an Idempotency-Key's, a test's) is never batched with others: it is
written in that transaction, alone.

Locks are taken in the one order of `yuyue.orders.locks` (slot rows by id, then usage rows by
slot and customer; a usage row only while its slot's row is held), here and where a cancellation
gives places back, so concurrent batches in several processes cannot deadlock. (SQLite has one
writer.)
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache

from django.db import DEFAULT_DB_ALIAS, IntegrityError, connection, transaction

from yuyue.core import sql
from yuyue.core.audit import audit_entry
from yuyue.core.codes import new_checkin_code
from yuyue.core.errors import DomainError
from yuyue.core.models import AuditLog
from yuyue.scheduling.models import SlotStatus, TimeSlot

from .models import Booking, Participant, SlotUsage


@dataclass(eq=False)
class PendingBooking:
    """A hall-slot booking that has passed every rule that does not need a lock."""

    booking: Booking  # unsaved; customer, slot, places and price filled in
    people: list[Participant]  # unsaved, one per place
    limit: int  # the service's per-user limit
    error: BaseException | None = None
    written: bool = False  # committed
    done: bool = False
    _event: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def key(self) -> tuple[int, int]:
        return self.booking.slot_id, self.booking.customer_id


@cache
def _statements() -> dict[str, str]:
    usage, slot = sql.table(SlotUsage), sql.table(TimeSlot)
    u = {f: sql.qn(SlotUsage._meta.get_field(f).column) for f in ("slot", "customer", "count")}
    s = {
        f: sql.qn(TimeSlot._meta.get_field(f).column)
        for f in ("id", "booked", "capacity", "status")
    }
    return {
        "use": (
            f"INSERT INTO {usage} ({u['slot']}, {u['customer']}, {u['count']}) VALUES {{rows}}"
            f" ON CONFLICT ({u['slot']}, {u['customer']}) DO UPDATE"
            f" SET {u['count']} = {usage}.{u['count']} + 1 WHERE {usage}.{u['count']} < %s"
            f" RETURNING {u['slot']}, {u['customer']}"
        ),
        "give_back": (
            f"UPDATE {usage} SET {u['count']} = {u['count']} - 1"
            f" WHERE {u['count']} > 0 AND ({u['slot']}, {u['customer']}) IN ({{rows}})"
        ),
        "drop_unused": (
            f"DELETE FROM {usage}"
            f" WHERE {u['count']} = 0 AND ({u['slot']}, {u['customer']}) IN ({{rows}})"
        ),
        "take": (
            f"UPDATE {slot} SET {s['booked']} = {s['booked']} + %s WHERE {s['id']} = %s"
            f" AND {s['status']} = %s AND ({s['capacity']} IS NULL"
            f" OR {s['booked']} <= {s['capacity']} - %s)"
        ),
        "read": (
            f"SELECT {s['booked']}, {s['capacity']}, {s['status']} FROM {slot} WHERE {s['id']} = %s"
        ),
        "lock": (  # PostgreSQL
            f"SELECT {s['id']} FROM {slot} WHERE {s['id']} = ANY(%s) ORDER BY {s['id']}"
            " FOR NO KEY UPDATE"
        ),
    }


def _vendor_read() -> str:
    read = _statements()["read"]
    return read + " FOR UPDATE" if connection.vendor == "postgresql" else read


def _rounds(batch: list[PendingBooking]) -> list[list[PendingBooking]]:
    """Split a batch so that no round has two bookings of one customer in one slot (one
    statement may not raise the same usage row twice); later rounds see the earlier ones."""
    rounds: list[list[PendingBooking]] = []
    seen: list[set] = []
    for p in batch:
        for i, keys in enumerate(seen):
            if p.key not in keys:
                keys.add(p.key)
                rounds[i].append(p)
                break
        else:
            seen.append({p.key})
            rounds.append([p])
    return rounds


def _use_places(pending: list[PendingBooking]) -> list[PendingBooking]:
    """Raise each customer's usage row (per-user limit); those over their limit fail."""
    by_limit: dict[int, list[PendingBooking]] = defaultdict(list)
    for p in pending:
        by_limit[p.limit].append(p)
    passed = []
    for limit, group in sorted(by_limit.items()):
        group.sort(key=lambda p: p.key)
        keys = [p.key for p in group]
        statement = _statements()["use"].format(rows=", ".join(["(%s, %s, 1)"] * len(keys)))
        with sql.cursor() as cursor:
            cursor.execute(statement, [v for k in keys for v in k] + [limit])
            ok = {(int(s), int(c)) for s, c in cursor.fetchall()}
        for p in group:
            if p.key in ok:
                passed.append(p)
            else:
                p.error = DomainError("per_user_limit", limit=p.limit)
    return passed


def _take_places(pending: list[PendingBooking]) -> list[PendingBooking]:
    """Take the places in each slot; bookings that find no room (or a closed slot) fail."""
    by_slot: dict[int, list[PendingBooking]] = defaultdict(list)
    for p in pending:
        by_slot[p.booking.slot_id].append(p)
    won = []
    take = _statements()["take"]
    for slot_id in sorted(by_slot):
        group = by_slot[slot_id]
        total = sum(p.booking.places for p in group)
        if sql.execute(take, [total, slot_id, SlotStatus.OPEN, total]):
            won += group
            continue
        # Not room for all of them (or closed): the slot row, locked, says what is left.
        booked, capacity, status = sql.fetch_one(_vendor_read(), [slot_id])
        if status != SlotStatus.OPEN:
            for p in group:
                p.error = DomainError("slot_closed")
            continue
        left = None if capacity is None else capacity - booked
        granted = 0
        for p in group:  # arrival order
            if left is None or p.booking.places <= left - granted:
                granted += p.booking.places
                won.append(p)
            else:
                p.error = DomainError("slot_full")
        if granted and not sql.execute(take, [granted, slot_id, SlotStatus.OPEN, granted]):
            raise RuntimeError(f"slot {slot_id} changed under its row lock")
    return won


def _give_back(pending: list[PendingBooking]) -> None:
    """Usage raised for bookings that then found no place is given back; a row that counts no
    booking then is removed (a refused booking leaves nothing behind)."""
    if not pending:
        return
    keys = sorted({p.key for p in pending})
    rows = ", ".join(["(%s, %s)"] * len(keys))
    if connection.vendor == "sqlite":
        rows = "VALUES " + rows
    params = [v for k in keys for v in k]
    sql.execute(_statements()["give_back"].format(rows=rows), params)
    sql.execute(_statements()["drop_unused"].format(rows=rows), params)


# A hall booking's columns that differ between bookings; the rest are written as their defaults
# (`sql.insert_many`'s `vary`), and a booking that set any of them otherwise would be refused.
BOOKING_FIELDS = frozenset(
    (
        "customer",
        "merchant",
        "service",
        "slot",
        "starts_at",
        "ends_at",
        "places",
        "quantity",
        "status",
        "payment_status",
        "pay_before",
        "code",
        "price_fen",
        "created_at",
        "remind_at",
    )
)


def _insert(won: list[PendingBooking]) -> None:
    """The bookings (each with a fresh check-in code) in one statement, then their
    participants and audit rows in one more (one statement each on SQLite)."""
    todo = [p.booking for p in won]
    for _ in range(5):  # a (very unlikely) code collision draws another code
        for b in todo:
            b.code = new_checkin_code()
        inserted = {id(b) for b in sql.insert_unless_taken(todo, "code", vary=BOOKING_FIELDS)}
        todo = [b for b in todo if id(b) not in inserted]
        if not todo:
            break
    else:
        raise RuntimeError("could not draw a unique check-in code")
    people, entries = [], []
    for p in won:
        b = p.booking
        for person in p.people:
            person.booking = b
        people += p.people
        entries.append(audit_entry(b.customer, "booking.create", b, **_audit_data(p)))
    sql.insert_together([(people, None), (entries, None)])


def _write(batch: list[PendingBooking], *, at_once: bool = True) -> None:
    """Write a batch in the current transaction; each booking gets a key or an error. On
    PostgreSQL each round goes as one statement first (`at_once`), and what that statement
    leaves (bookings whose slot has no room for the whole round) goes on step by step."""
    for p in batch:
        p.error = None
    postgresql = connection.vendor == "postgresql"
    for round_ in _rounds(batch):
        if at_once and postgresql:
            round_ = _write_round_at_once(round_)  # what is left needs the steps below
            if not round_:
                continue
        if postgresql:  # slot rows before usage rows, as everywhere
            slots = sorted({p.booking.slot_id for p in round_})
            sql.execute(_statements()["lock"], [slots])
        used = _use_places(round_)
        won = _take_places(used)
        winners = set(won)
        _give_back([p for p in used if p not in winners])
        _insert(won)


@cache
def _at_once_sql() -> str:
    """`_write_round_at_once`'s statement (PostgreSQL). Its rows come as JSON, one parameter
    per table, so its text (and its prepared plan) is the same for every round."""
    usage, slot = sql.table(SlotUsage), sql.table(TimeSlot)
    u = {f: sql.qn(SlotUsage._meta.get_field(f).column) for f in ("slot", "customer", "count")}
    s = {
        f: sql.qn(TimeSlot._meta.get_field(f).column)
        for f in ("id", "booked", "capacity", "status")
    }
    b_insert, b_rows, r = sql.insert_select(Booking, BOOKING_FIELDS, "r")
    bk = sql.qn(Booking._meta.pk.column)
    code = sql.qn(Booking._meta.get_field("code").column)
    dependents = [
        sql.insert_select(Participant, None, "x", (("booking", "b.id"),)),
        sql.insert_select(AuditLog, None, "x", (("target_id", "b.id::text"),)),
    ]
    parts = "".join(
        f", w{i} AS ({insert} FROM {rows} JOIN r ON r.k = x.k JOIN b ON b.code = r.{r['code']})"
        for i, (insert, rows, _) in enumerate(dependents)
    )
    return (
        f"WITH r AS (SELECT * FROM {b_rows}),"
        f" g AS (SELECT r.{r['slot']} AS slot, SUM(r.{r['places']}) AS n FROM r GROUP BY 1),"
        # the slot rows first, locked in key order: what they say now (a row another
        # transaction changed meanwhile is read as it left it) is what the places come from
        f" l AS MATERIALIZED (SELECT t.{s['id']} AS id, t.{s['booked']} AS booked,"
        f" t.{s['capacity']} AS capacity, t.{s['status']} AS status FROM {slot} t JOIN g"
        f" ON g.slot = t.{s['id']} ORDER BY t.{s['id']} FOR NO KEY UPDATE OF t),"
        # slots with room for all of the round's bookings in them: only their bookings go on
        f" room AS MATERIALIZED (SELECT l.id FROM l JOIN g ON g.slot = l.id WHERE l.status = %s"
        " AND (l.capacity IS NULL OR l.booked <= l.capacity - g.n)),"
        f" u AS (INSERT INTO {usage} ({u['slot']}, {u['customer']}, {u['count']})"
        f" SELECT r.{r['slot']}, r.{r['customer']}, 1 FROM r JOIN room ON room.id = r.{r['slot']}"
        f" ORDER BY 1, 2 ON CONFLICT ({u['slot']}, {u['customer']}) DO UPDATE"
        f" SET {u['count']} = {usage}.{u['count']} + 1 WHERE {usage}.{u['count']} < %s"
        f" RETURNING {u['slot']} AS slot, {u['customer']} AS customer),"
        f" need AS (SELECT r.{r['slot']} AS slot, SUM(r.{r['places']}) AS n"
        f" FROM r JOIN u ON u.slot = r.{r['slot']} AND u.customer = r.{r['customer']}"
        " GROUP BY 1),"
        # no condition: the room was counted under the lock (and the CHECK booked <= capacity
        # would fail the whole statement rather than let a slot take more)
        f" s AS (UPDATE {slot} SET {s['booked']} = {slot}.{s['booked']} + need.n"
        f" FROM need WHERE {slot}.{s['id']} = need.slot RETURNING {slot}.{s['id']} AS id),"
        f" b AS ({b_insert} FROM r JOIN u ON u.slot = r.{r['slot']}"
        f" AND u.customer = r.{r['customer']} JOIN s ON s.id = r.{r['slot']}"
        f" RETURNING {bk} AS id, {code} AS code)"
        f"{parts}"
        " SELECT 0, slot, customer::text FROM u UNION ALL SELECT 1, id, NULL FROM room"
        " UNION ALL SELECT 2, id, code FROM b"
    )


def _write_round_at_once(round_: list[PendingBooking]) -> list[PendingBooking]:
    """PostgreSQL: a round (no two bookings of one customer in one slot) in one statement:
    slot rows locked, usage rows, places, bookings, participants and audit rows, each
    guarded as in the steps it replaces (a booking is inserted only if its slot had room for all
    of the round's bookings in it and its usage row was raised). One round trip instead of six.

    The statement changes nothing it does not finish: a booking gets all of its rows or none, so
    it may run on its own, with no transaction around it (a lone booking: no BEGIN and COMMIT).
    A drawn check-in code that is taken fails the whole statement (IntegrityError, on the
    unique code), to be tried again with other codes.

    Returns the bookings it left alone (their slot had no room for the whole round, or the
    round mixes per-user limits), for the step-by-step path; bookings over their limit get their
    error here."""
    limits = {p.limit for p in round_}
    if len(limits) != 1:
        return round_  # the step-by-step path for the whole round
    codes: set[str] = set()
    for p in round_:  # distinct within the statement (dependents find their booking by code)
        p.booking.code = new_checkin_code()
        while p.booking.code in codes:
            p.booking.code = new_checkin_code()
        codes.add(p.booking.code)
    people = [(k, person) for k, p in enumerate(round_) for person in p.people]
    entries = [
        (k, audit_entry(p.booking.customer, "booking.create", p.booking, **_audit_data(p)))
        for k, p in enumerate(round_)
    ]
    bookings = [p.booking for p in round_]
    params = [sql.source_rows(Booking, bookings, range(len(round_)), BOOKING_FIELDS)]
    params += [SlotStatus.OPEN, limits.pop()]
    for model, rows, vary, skip in (
        (Participant, people, None, frozenset(("booking",))),
        (AuditLog, entries, None, frozenset(("target_id",))),
    ):
        keys, objs = [k for k, _ in rows], [obj for _, obj in rows]
        params.append(sql.source_rows(model, objs, keys, vary, skip))
    with sql.cursor() as cursor:
        cursor.execute(_at_once_sql(), params)
        rows = cursor.fetchall()
    usage = {(int(a), int(c)) for kind, a, c in rows if kind == 0}
    room = {int(a) for kind, a, _ in rows if kind == 1}
    keys = {c: int(a) for kind, a, c in rows if kind == 2}
    left = []
    for p in round_:
        b = p.booking
        if b.slot_id not in room:
            left.append(p)  # nothing done: places one by one, in arrival order, see _write
        elif p.key not in usage:
            p.error = DomainError("per_user_limit", limit=p.limit)
        else:
            b.pk = keys[b.code]  # inserted with its usage and places, or the statement failed
            b._state.adding = False
            b._state.db = DEFAULT_DB_ALIAS
            for person in p.people:
                person.booking = b
                person._state.adding = False
    return left


def _audit_data(p: PendingBooking) -> dict:
    return {"slot": p.booking.slot_id, "places": p.booking.places}


def _write_alone(p: PendingBooking) -> None:
    """One booking, committed, or in the caller's transaction if there is one (then its writes
    are rolled back to a savepoint when it is refused)."""
    try:
        for _ in range(5):  # a (very unlikely) taken check-in code: draw again
            try:
                _write_one(p)
                p.written = p.error is None
                return
            except IntegrityError as exc:
                if not _code_taken(exc):
                    raise
        raise RuntimeError("could not draw a unique check-in code")
    except Exception as exc:  # noqa: BLE001 (handed to the request's own thread)
        p.error = exc


def _write_one(p: PendingBooking) -> None:
    p.error = None
    left = [p]
    db = sql.default_db()
    if db.vendor == "postgresql":
        if db.in_atomic_block:  # a savepoint keeps the caller's transaction usable
            with transaction.atomic():
                left = _write_round_at_once(left)
        else:  # the statement is atomic on its own
            left = _write_round_at_once(left)
    if left:
        with transaction.atomic():
            _write(left, at_once=False)
            if p.error is not None:
                raise p.error  # nothing of a refused booking stays


def _code_taken(exc: IntegrityError) -> bool:
    diag = getattr(exc.__cause__, "diag", None)
    return getattr(diag, "constraint_name", None) == CODE_CONSTRAINT


CODE_CONSTRAINT = "booking_code_unique"
