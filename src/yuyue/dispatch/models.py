"""Finding the provider: offers of dispatch rounds, breaches, the task hall, live positions."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class OfferStatus(models.TextChoices):
    PENDING = "pending", "pending"
    ACCEPTED = "accepted", "accepted"
    REJECTED = "rejected", "rejected"
    EXPIRED = "expired", "timed out"
    WITHDRAWN = "withdrawn", "withdrawn"


class Offer(models.Model):
    """An order offered to one provider by a dispatch round, answered or timed out.

    At most one pending offer per order and one per provider (partial unique indexes), so an
    order is never offered to two people at once and a provider answers one offer at a time.
    """

    booking = models.ForeignKey("orders.Booking", on_delete=models.CASCADE, related_name="offers")
    provider = models.ForeignKey(
        "accounts.Provider", on_delete=models.CASCADE, related_name="offers"
    )
    round_no = models.PositiveSmallIntegerField()
    status = models.CharField(
        max_length=10, choices=OfferStatus.choices, default=OfferStatus.PENDING
    )
    travel_minutes = models.FloatField(null=True, blank=True)
    cost = models.FloatField(null=True, blank=True)
    sent_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["provider", "status"])]
        constraints = [
            models.UniqueConstraint(
                fields=["booking"],
                condition=Q(status="pending"),
                name="offer_one_pending_per_order",
            ),
            models.UniqueConstraint(
                fields=["provider"],
                condition=Q(status="pending"),
                name="offer_one_pending_per_provider",
            ),
        ]

    def __str__(self):
        return f"offer {self.pk} of booking {self.booking_id} to {self.provider_id}: {self.status}"


class Breach(models.Model):
    """A provider broke a commitment: cancelled an accepted order, did not show up…"""

    provider = models.ForeignKey(
        "accounts.Provider", on_delete=models.CASCADE, related_name="breaches"
    )
    booking = models.ForeignKey("orders.Booking", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=32)
    note = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(auto_now_add=True)


class NeedStatus(models.TextChoices):
    OPEN = "open", "open for applications"
    PICKED = "picked", "a provider was picked"
    CANCELLED = "cancelled", "cancelled"
    EXPIRED = "expired", "expired"


class Need(models.Model):
    """A customer's published demand in the task hall 需求大厅, with a budget."""

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="needs"
    )
    category = models.ForeignKey("catalog.Category", on_delete=models.PROTECT, related_name="needs")
    service = models.ForeignKey(
        "catalog.Service", null=True, blank=True, on_delete=models.PROTECT, related_name="needs"
    )
    title = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveIntegerField(default=60)
    address = models.CharField(max_length=300)
    lat = models.FloatField()
    lng = models.FloatField()
    budget_fen = models.PositiveBigIntegerField()
    status = models.CharField(max_length=10, choices=NeedStatus.choices, default=NeedStatus.OPEN)
    booking = models.OneToOneField(
        "orders.Booking", null=True, blank=True, on_delete=models.PROTECT, related_name="need"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closes_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["status", "starts_at"])]

    def __str__(self):
        return self.title


class ApplicationStatus(models.TextChoices):
    APPLIED = "applied", "applied"
    PICKED = "picked", "picked"
    DECLINED = "declined", "not picked"
    WITHDRAWN = "withdrawn", "withdrawn"


class Application(models.Model):
    """A provider's bid on a need: a price and a message."""

    need = models.ForeignKey(Need, on_delete=models.CASCADE, related_name="applications")
    provider = models.ForeignKey(
        "accounts.Provider", on_delete=models.CASCADE, related_name="applications"
    )
    price_fen = models.PositiveBigIntegerField()
    message = models.CharField(max_length=500, blank=True)
    status = models.CharField(
        max_length=10, choices=ApplicationStatus.choices, default=ApplicationStatus.APPLIED
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["need", "provider"], name="application_once"),
        ]


class LocationPing(models.Model):
    """Where the provider of an active order was; kept only for a few days."""

    booking = models.ForeignKey(
        "orders.Booking", on_delete=models.CASCADE, related_name="positions"
    )
    provider = models.ForeignKey("accounts.Provider", on_delete=models.CASCADE, related_name="+")
    lat = models.FloatField()
    lng = models.FloatField()
    accuracy_m = models.FloatField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        indexes = [models.Index(fields=["booking", "at"])]
