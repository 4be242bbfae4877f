# Notice now belongs to yuyue.notifications (its table stays; only Django's state moves).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0003_auditlog_action_index"),
        ("notifications", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Notice")],
            database_operations=[],
        ),
    ]
