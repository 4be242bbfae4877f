"""An upgrade's migrations must not lock a hot table while the old release serves: the check
names the operations that would (and lets the online ones through), and the tree holds none
that are not shipped yet (`make lint` runs it too)."""

from __future__ import annotations

from django.contrib.postgres.operations import AddConstraintNotValid, AddIndexConcurrently
from django.db import migrations, models

from yuyue.core import migration_locks
from yuyue.core.migration_locks import why_locked

INDEX = models.Index(fields=["remind_at"], name="booking_remind_x")
CHECK = models.CheckConstraint(condition=models.Q(places__gte=1), name="places_x")


def test_what_locks_a_hot_table_and_what_does_not():
    locked = {
        "index": migrations.AddIndex("booking", INDEX),
        "constraint": migrations.AddConstraint("booking", CHECK),
        "not null": migrations.AddField("booking", "x", models.IntegerField(default=0)),
        "type": migrations.AlterField("booking", "places", models.BigIntegerField()),
        "rename": migrations.RenameField("booking", "places", "seats"),
        "remove": migrations.RemoveField("booking", "places"),
    }
    for kind, operation in locked.items():
        said = why_locked(operation, "orders")
        assert said is not None and said[0] == "orders.booking", kind
    online = [
        AddIndexConcurrently("booking", INDEX),
        AddConstraintNotValid("booking", CHECK),
        migrations.AddField("booking", "x", models.IntegerField(null=True)),
        migrations.AddField("booking", "y", models.IntegerField(db_default=0)),
        migrations.AddIndex("review", INDEX),  # not a hot table
    ]
    assert [why_locked(op, "orders") for op in online[:4]] == [None] * 4
    assert why_locked(online[4], "engagement") is None


def test_the_tree_has_no_unshipped_lock_and_the_shipped_list_is_known():
    assert migration_locks.find_locks() == []
    shipped = migration_locks.shipped()
    assert "orders.0001_initial" in shipped
    # without the list, the history's locks are found (the check really looks)
    found = migration_locks.find_locks(include_shipped=True)
    assert any(lock.table == "orders.booking" and lock.operation == "AddIndex" for lock in found)
