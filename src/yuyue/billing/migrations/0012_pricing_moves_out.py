# Price lists and quotes now belong to yuyue.pricing (tables stay; only Django's state moves).

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0011_membership_level_merchant"),
        ("pricing", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.DeleteModel(name="PriceListItem"),
                migrations.DeleteModel(name="PriceList"),
                migrations.DeleteModel(name="Quote"),
            ],
        ),
    ]
