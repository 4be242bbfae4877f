"""Prices a merchant sets for periods, and quotes given to customers (tables kept from billing)."""

from django.db import models


class PriceList(models.Model):
    """A merchant's prices for a period (a season, a holiday week, a new year's list): while it
    is valid, its item for a service replaces the service's base price. The newest valid list
    wins."""

    merchant = models.ForeignKey(
        "catalog.Merchant", on_delete=models.PROTECT, related_name="price_lists"
    )
    name = models.CharField(max_length=100)
    valid_from = models.DateField()
    valid_until = models.DateField(null=True, blank=True, help_text="Inclusive; empty: open.")
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "billing_pricelist"
        ordering = ["-valid_from", "-id"]

    def __str__(self):
        return self.name


class PriceListItem(models.Model):
    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="items")
    service = models.ForeignKey("catalog.Service", on_delete=models.PROTECT, related_name="+")
    unit_price_fen = models.PositiveBigIntegerField()

    class Meta:
        db_table = "billing_pricelistitem"
        constraints = [
            models.UniqueConstraint(fields=["price_list", "service"], name="price_list_item_once")
        ]


class Quote(models.Model):
    """A priced offer for a service at a time and place, with its breakdown; valid until
    `expires_at`; an order made from it locks it (`used_by`)."""

    service = models.ForeignKey("catalog.Service", on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    starts_at = models.DateTimeField()
    quantity = models.PositiveIntegerField(default=1)
    options = models.JSONField(default=dict, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    breakdown = models.JSONField()
    total_fen = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    # The order that took it: a reference up to orders (a model's string reference, not an import)
    used_by = models.OneToOneField(
        "orders.Booking", null=True, blank=True, on_delete=models.PROTECT, related_name="quote"
    )

    class Meta:
        db_table = "billing_quote"  # created by billing before pricing was a part of its own


class DayKind(models.TextChoices):
    HOLIDAY = "holiday", "public holiday"
    WORKDAY = "workday", "adjusted working day (调休)"


class PublicDay(models.Model):
    """A day of China's public-holiday schedule entered by an operator: for a year the
    chinese-calendar package does not know yet (the State Council publishes each year's schedule
    late in the year before), or to correct it. An entry wins over the package."""

    date = models.DateField(unique=True)
    kind = models.CharField(max_length=10, choices=DayKind.choices)
    name = models.CharField(max_length=60, blank=True)

    class Meta:
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {self.kind}"
