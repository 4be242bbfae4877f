# PriceList, PriceListItem and Quote move from billing to pricing; their tables stay as they are.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

ID = ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID"))


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("billing", "0011_membership_level_merchant"),
        ("catalog", "0005_service_call_rules"),
        ("orders", "0008_reminder_jobs_to_remind_at"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="PriceList",
                    fields=[
                        ID,
                        ("name", models.CharField(max_length=100)),
                        ("valid_from", models.DateField()),
                        (
                            "valid_until",
                            models.DateField(
                                blank=True, help_text="Inclusive; empty: open.", null=True
                            ),
                        ),
                        ("active", models.BooleanField(default=True)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        (
                            "merchant",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="price_lists",
                                to="catalog.merchant",
                            ),
                        ),
                    ],
                    options={"db_table": "billing_pricelist", "ordering": ["-valid_from", "-id"]},
                ),
                migrations.CreateModel(
                    name="PriceListItem",
                    fields=[
                        ID,
                        ("unit_price_fen", models.PositiveBigIntegerField()),
                        (
                            "price_list",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="items",
                                to="pricing.pricelist",
                            ),
                        ),
                        (
                            "service",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="catalog.service",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "billing_pricelistitem",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("price_list", "service"), name="price_list_item_once"
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="Quote",
                    fields=[
                        ID,
                        ("starts_at", models.DateTimeField()),
                        ("quantity", models.PositiveIntegerField(default=1)),
                        ("options", models.JSONField(blank=True, default=dict)),
                        ("lat", models.FloatField(blank=True, null=True)),
                        ("lng", models.FloatField(blank=True, null=True)),
                        ("breakdown", models.JSONField()),
                        ("total_fen", models.BigIntegerField()),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("expires_at", models.DateTimeField()),
                        (
                            "customer",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                            ),
                        ),
                        (
                            "service",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="catalog.service",
                            ),
                        ),
                        (
                            "used_by",
                            models.OneToOneField(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="quote",
                                to="orders.booking",
                            ),
                        ),
                    ],
                    options={"db_table": "billing_quote"},
                ),
            ],
        ),
    ]
