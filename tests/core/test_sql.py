"""yuyue.core.sql reads and writes rows exactly as the ORM does, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models.signals import post_init
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from yuyue.core import sql
from yuyue.core.models import AuditLog
from yuyue.core.sql import writes as sql_writes
from yuyue.orders.models import Booking, Channel, Participant
from yuyue.scheduling.models import TimeSlot


def _slot(hall_service, hall) -> TimeSlot:
    starts = timezone.now().replace(microsecond=123456) + dt.timedelta(days=1)
    return TimeSlot.objects.create(
        service=hall_service,
        hall=hall,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=1),
        capacity=None,
    )


def _booking(customer, slot, code: str, **extra) -> Booking:
    """An unsaved hall booking of `slot`, as `book_slot` builds one."""
    return Booking(
        customer=customer,
        merchant_id=slot.service.merchant_id,
        service=slot.service,
        slot=slot,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        code=code,
        **extra,
    )


@pytest.mark.django_db
def test_select_loads_the_row_and_its_foreign_keys_like_the_orm(hall_service, hall):
    slot = _slot(hall_service, hall)
    with CaptureQueriesContext(connection) as queries:
        got = sql.select_one(
            TimeSlot, "t0.id = %s", [slot.pk], related=("service", "service__merchant", "hall")
        )
        # everything the booking path reads comes with that one statement
        assert got.service.merchant.timezone == "Asia/Shanghai"
        assert got.hall.name == "Hall A"
    assert len(queries) == 1
    orm = TimeSlot.objects.select_related("service__merchant", "hall").get(pk=slot.pk)
    for field in TimeSlot._meta.concrete_fields:
        assert getattr(got, field.attname) == getattr(orm, field.attname), field.name
    for field in type(orm.service)._meta.concrete_fields:
        assert getattr(got.service, field.attname) == getattr(orm.service, field.attname)
    assert got.starts_at.tzinfo is not None and got.starts_at == slot.starts_at
    assert got.capacity is None and got._state.adding is False
    assert sql.select_one(TimeSlot, "t0.id = %s", [slot.pk + 1000]) is None


@pytest.mark.django_db
def test_select_makes_the_instances_from_db_makes_and_sends_init_signals_to_listeners(
    hall_service, hall
):
    slot = _slot(hall_service, hall)

    def state(obj) -> dict:
        return {k: v for k, v in vars(obj).items() if k != "_state"} | {
            "adding": obj._state.adding,
            "db": obj._state.db,
        }

    orm = TimeSlot.objects.get(pk=slot.pk)
    got = sql.select_one(TimeSlot, "t0.id = %s", [slot.pk])
    assert state(got) == state(orm)
    seen = []

    def listener(sender, instance, **kwargs):
        seen.append(instance.pk)

    post_init.connect(listener, sender=TimeSlot)
    try:
        again = sql.select_one(TimeSlot, "t0.id = %s", [slot.pk])
    finally:
        post_init.disconnect(listener, sender=TimeSlot)
    assert seen == [slot.pk] and state(again) == state(orm)


@pytest.mark.django_db
def test_insert_fills_defaults_and_converts_values_like_save(customer, hall_service, hall):
    slot = _slot(hall_service, hall)
    booking = _booking(customer, slot, "SQLTEST234", channel=Channel.HALL_SLOT)
    before = timezone.now()
    assert sql.insert(booking) is booking and booking.pk
    people = sql.insert_many(
        [
            Participant(booking=booking, position=0, answers={"name": "陈", "n": 1}),
            Participant(booking=booking, position=1, answers=None),
        ]
    )
    entry = sql.insert(AuditLog(actor=customer, action="test.sql", data={"a": [1, 2]}))

    stored = Booking.objects.get(pk=booking.pk)
    assert stored.code == "SQLTEST234" and stored.status == "booked" and stored.options == {}
    assert stored.created_at >= before and stored.created_at == booking.created_at
    assert [(p.pk, p.position, p.answers) for p in stored.participants.all()] == [
        (people[0].pk, 0, {"name": "陈", "n": 1}),
        (people[1].pk, 1, None),
    ]
    assert AuditLog.objects.get(pk=entry.pk).data == {"a": [1, 2]}
    # stored encrypted, as through the ORM
    raw = sql.fetch_one(
        f"SELECT {sql.column(Participant, 'answers')} FROM {sql.table(Participant)}"
        f" WHERE {sql.column(Participant, 'id')} = %s",
        [people[0].pk],
    )
    assert "陈" not in raw[0]


@pytest.mark.django_db
def test_insert_unless_taken_skips_a_taken_value_and_raises_on_other_constraints(
    customer, hall_service, hall
):
    slot = _slot(hall_service, hall)

    def booking(code, places=1):
        return _booking(customer, slot, code, places=places)

    with transaction.atomic():
        assert sql.insert(booking("TAKEN23456"), unless_taken="code") is not None
        assert sql.insert(booking("TAKEN23456"), unless_taken="code") is None
        # the transaction is still usable after a skipped row
        assert sql.insert(booking("FRESH23456"), unless_taken="code") is not None
    assert Booking.objects.filter(code__in=["TAKEN23456", "FRESH23456"]).count() == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        sql.insert(booking("OTHER23456", places=0), unless_taken="code")  # places > 0 check


@pytest.mark.django_db
def test_statements_keep_the_checks_of_djangos_cursor(customer, hall_service, hall):
    """On the driver's own cursor a statement still meets Django's errors and checks, and
    whatever watches statements (here CaptureQueriesContext) still sees each one."""
    slot = _slot(hall_service, hall)
    with CaptureQueriesContext(connection) as queries:
        assert sql.fetch_one(
            f"SELECT {sql.qn('booked')} FROM {sql.table(TimeSlot)} WHERE {sql.qn('id')} = %s",
            [slot.pk],
        ) == (0,)
    assert len(queries) == 1 and str(slot.pk) in queries[0]["sql"]
    with transaction.atomic():
        with pytest.raises(IntegrityError), transaction.atomic(savepoint=False):
            sql.insert(_booking(customer, slot, "BROKEN2345", places=0))  # places > 0 check
        # the transaction is broken now: a statement is refused, as through the ORM
        with pytest.raises(TransactionManagementError):
            sql.fetch_one("SELECT 1")
        with pytest.raises(TransactionManagementError):
            TimeSlot.objects.filter(pk=slot.pk).exists()
    assert not Booking.objects.filter(code="BROKEN2345").exists()
    assert (
        sql.execute(
            f"UPDATE {sql.table(TimeSlot)} SET {sql.qn('booked')} = 1 WHERE {sql.qn('id')} = %s",
            [slot.pk],
        )
        == 1
    )


@pytest.mark.django_db
def test_select_annotates_each_row_with_extra_expressions(hall_service, hall):
    slot = _slot(hall_service, hall)
    got = sql.select(
        TimeSlot,
        "t0.id = %s",
        [slot.pk],
        related=("service",),
        annotate={
            "twice": f"t0.{sql.qn('booked')} + 2",
            "has_slots": f"EXISTS (SELECT 1 FROM {sql.table(TimeSlot)} WHERE "
            f"{sql.column(TimeSlot, 'service')} = t1.{sql.qn('id')})",
        },
    )
    assert [(s.pk, s.twice, bool(s.has_slots)) for s in got] == [(slot.pk, 2, True)]


@pytest.mark.django_db
def test_columns_written_as_defaults_store_the_same_row_and_refuse_another_value(
    customer, hall_service, hall
):
    slot = _slot(hall_service, hall)

    def booking(code, **extra):
        return _booking(customer, slot, code, **extra)

    vary = frozenset(("customer", "merchant", "service", "slot", "starts_at", "ends_at", "code"))
    vary |= {"created_at"}
    with CaptureQueriesContext(connection) as queries:
        fast = sql.insert_many([booking("VARY234567")], vary=vary)[0]
    assert "'hall_slot'" in queries[0]["sql"]  # a constant column is part of the statement
    plain = sql.insert(booking("PLAIN23456"))
    fast_row, plain_row = (Booking.objects.get(pk=b.pk) for b in (fast, plain))
    for field in Booking._meta.concrete_fields:
        if field.name not in ("id", "code", "created_at"):
            assert getattr(fast_row, field.attname) == getattr(plain_row, field.attname), field
    # a value the statement would silently replace by the default is refused, nothing written
    with pytest.raises(ValueError, match="address"):
        sql.insert_many([booking("ADDR234567", address="somewhere")], vary=vary)
    assert not Booking.objects.filter(code="ADDR234567").exists()


@pytest.mark.django_db
def test_insert_together_writes_every_list(customer, hall_service, hall):
    slot = _slot(hall_service, hall)
    booking = sql.insert(_booking(customer, slot, "TOGETHER23"))
    people = [Participant(booking=booking, position=i, answers={"i": i}) for i in range(3)]
    entries = [AuditLog(actor=customer, action="test.together", data={"n": 1})]
    with CaptureQueriesContext(connection) as queries:
        sql.insert_together([(people, None), ([], None), (entries, None)])
    # one round trip on PostgreSQL (INSERTs in a WITH clause); one statement a list on SQLite
    assert len(queries) == (1 if connection.vendor == "postgresql" else 2)
    assert [(p.position, p.answers) for p in booking.participants.all()] == [
        (0, {"i": 0}),
        (1, {"i": 1}),
        (2, {"i": 2}),
    ]
    assert AuditLog.objects.get(action="test.together").data == {"n": 1}
    assert all(not p._state.adding for p in people)


@pytest.mark.django_db
def test_insert_select_from_source_rows_stores_what_save_stores(customer, hall_service, hall):
    slot = _slot(hall_service, hall)
    fields = frozenset(
        ("customer", "merchant", "service", "slot", "starts_at", "ends_at", "code", "created_at")
    )
    # the JSON rows: the key first, then each sent column as its cast will read it
    (row,) = json.loads(sql.source_rows(Booking, [_booking(customer, slot, "JSONROW234")], [7]))
    starts = sql.param(Booking, "starts_at", slot.starts_at)  # as the database takes it
    assert row[0] == 7 and "JSONROW234" in row
    assert (starts.isoformat() if isinstance(starts, dt.datetime) else starts) in row
    if connection.vendor != "postgresql":
        return  # insert_select's statement is PostgreSQL's (SQLite writes step by step)
    b_insert, b_rows, _ = sql.insert_select(Booking, fields, "r")
    p_insert, p_rows, _ = sql.insert_select(Participant, None, "x", (("booking", "b.id"),))
    a_insert, a_rows, _ = sql.insert_select(AuditLog, None, "x", (("target_id", "b.id::text"),))
    statement = (
        f"WITH b AS ({b_insert} FROM {b_rows} RETURNING id),"
        f" p AS ({p_insert} FROM {p_rows} CROSS JOIN b)"
        f" {a_insert} FROM {a_rows} CROSS JOIN b"
    )
    booking = _booking(customer, slot, "SOURCE2345")
    people = [
        Participant(position=0, answers={"name": '陈 "引号" \\ 斜杠', "n": 1.5, "ok": True}),
        Participant(position=1, answers=None),
    ]
    entry = AuditLog(actor=customer, action="test.source", data={"at": "2026-12-02", "x": [None]})
    with transaction.atomic():
        sql.execute(
            statement,
            [
                sql.source_rows(Booking, [booking], [0], fields),
                sql.source_rows(Participant, people, [0, 1], skip=frozenset(("booking",))),
                sql.source_rows(AuditLog, [entry], [0], skip=frozenset(("target_id",))),
            ],
        )
    stored = Booking.objects.get(code="SOURCE2345")
    # the slot's start has microseconds: they survive the JSON text
    assert stored.starts_at == slot.starts_at and stored.created_at == booking.created_at
    assert stored.customer_id == customer.pk and stored.status == "booked"
    assert [(p.position, p.answers) for p in stored.participants.all()] == [
        (0, {"name": '陈 "引号" \\ 斜杠', "n": 1.5, "ok": True}),
        (1, None),
    ]
    log = AuditLog.objects.get(action="test.source")
    assert log.data == {"at": "2026-12-02", "x": [None]} and log.target_id == str(stored.pk)
    assert log.at == entry.at


def test_source_rows_refuse_values_json_cannot_carry():
    with pytest.raises(TypeError, match="bytes"):
        sql_writes._json.encode([[0, b"raw"]])
    with pytest.raises(ValueError):
        sql_writes._json.encode([[0, float("nan")]])


@pytest.mark.django_db
def test_row_values_hand_over_what_each_field_would_prepare(customer, hall_service, hall):
    """Plain values skip the fields' conversion; everything else (encrypted answers, JSON, a
    naive time, a value of another type) still goes through the field itself, so the
    parameters are exactly the fields' own, on either database."""
    from yuyue.core.crypto import decrypt

    slot = _slot(hall_service, hall)
    booking = _booking(customer, slot, "PLAINVAL1", places=2, price_fen=1500)
    people = [
        Participant(booking_id=7, position=0, answers={"name": "张三"}),
        Participant(booking_id=7, position=1, answers=None),
    ]
    entry = AuditLog(action="x", target_type="booking", target_id="7", data={"a": [1]})
    for model, objs in ((Booking, [booking]), (Participant, people), (AuditLog, [entry])):
        fields = sql_writes._insert_plan(model, connection.vendor)[0]
        got = sql.row_values(model, objs)
        # the fields' own way, with the same auto_now_add values the fast way filled in
        want = [f.get_db_prep_save(getattr(o, f.attname), connection) for o in objs for f in fields]
        assert len(got) == len(want)
        for g, w, f in zip(got, want, fields * len(objs), strict=True):
            if f.name == "answers" and w is not None:  # encrypted with a fresh nonce each time
                assert decrypt(g) == decrypt(w)
            else:
                assert type(g) is type(w), f.name
                assert getattr(g, "obj", g) == getattr(w, "obj", w), f.name  # Jsonb: its value
    # a value of another type than the field's is converted by the field, as before
    odd = _booking(customer, slot, "PLAINVAL2", places=True, price_fen="1500")
    values = dict(
        zip(
            [f.name for f in sql_writes._insert_plan(Booking, connection.vendor)[0]],
            sql.row_values(Booking, [odd]),
            strict=True,
        )
    )
    assert values["price_fen"] == 1500 and values["places"] == 1 and values["places"] is not True
    assert values["customer"] == customer.pk


@pytest.mark.django_db
def test_values_read_like_values_list_and_one_of_takes_a_whole_list_as_one_parameter(
    hall_service, hall
):
    first = _slot(hall_service, hall)
    ids = [first.pk] + [
        TimeSlot.objects.create(
            service=hall_service,
            hall=hall,
            starts_at=first.starts_at + dt.timedelta(hours=i),
            ends_at=first.ends_at + dt.timedelta(hours=i),
            capacity=i,
        ).pk
        for i in (1, 2)
    ]
    fields = ("id", "service", "starts_at", "capacity")
    where = sql.one_of("t0.id")
    with CaptureQueriesContext(connection) as queries:
        got = sql.values(TimeSlot, fields, where, [sql.integers(ids[:2])])
    assert len(queries) == 1
    assert sorted(got) == sorted(TimeSlot.objects.filter(pk__in=ids[:2]).values_list(*fields))
    assert all(row[2].tzinfo is not None for row in got)  # aware, as the ORM reads them
    assert sql.values(TimeSlot, ("id",), where, [sql.integers(ids)]) != []
    assert sql.values(TimeSlot, ("id",), where, [sql.integers([])]) == []
