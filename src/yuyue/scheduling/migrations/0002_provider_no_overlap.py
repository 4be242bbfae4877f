"""On PostgreSQL, the database itself refuses two overlapping active reservations of a provider."""

from django.db import migrations

CONSTRAINT = "reservation_provider_no_overlap"


def add_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return  # SQLite: writers are serialised (BEGIN IMMEDIATE); the service checks in-transaction
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    schema_editor.execute(
        f"ALTER TABLE scheduling_providerreservation ADD CONSTRAINT {CONSTRAINT} "
        "EXCLUDE USING gist (provider_id WITH =, "
        "tstzrange(starts_at, blocked_until, '[)') WITH &&) WHERE (active)"
    )


def drop_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"ALTER TABLE scheduling_providerreservation DROP CONSTRAINT IF EXISTS {CONSTRAINT}"
    )


class Migration(migrations.Migration):
    dependencies = [("scheduling", "0001_initial")]
    operations = [migrations.RunPython(add_constraint, drop_constraint)]
