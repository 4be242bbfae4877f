"""Bookings: a customer's places in a hall slot, or a provider's time; never deleted."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from yuyue.core.crypto import EncryptedJSONField


class BookingStatus(models.TextChoices):
    BOOKED = "booked", "booked"
    CHECKED_IN = "checked_in", "checked in"
    CANCELLED = "cancelled", "cancelled by the customer"
    CANCELLED_BY_STAFF = "cancelled_by_staff", "cancelled by staff"


class Booking(models.Model):
    """A booking 预约: N places in a hall slot, or a provider's time for an on-site/remote service.

    Status changes are made only by the services in `orders.services`, each a conditional UPDATE
    from the expected state, so concurrent changes cannot both win.
    """

    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                 related_name="bookings")
    merchant = models.ForeignKey("catalog.Merchant", on_delete=models.PROTECT,
                                 related_name="bookings")
    service = models.ForeignKey("catalog.Service", on_delete=models.PROTECT,
                                related_name="bookings")
    slot = models.ForeignKey("scheduling.TimeSlot", null=True, blank=True,
                             on_delete=models.PROTECT, related_name="bookings")
    provider = models.ForeignKey("accounts.Provider", null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="bookings")
    reservation = models.OneToOneField("scheduling.ProviderReservation", null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="booking")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    places = models.PositiveIntegerField(default=1)
    status = models.CharField(max_length=20, choices=BookingStatus.choices,
                              default=BookingStatus.BOOKED)
    code = models.CharField(max_length=16, unique=True, help_text="Check-in code 核销码.")
    price_fen = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    cancel_reason = models.CharField(max_length=300, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    checked_in_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-starts_at", "-id"]
        indexes = [
            models.Index(fields=["customer", "starts_at"]),
            models.Index(fields=["merchant", "starts_at"]),
            models.Index(fields=["slot", "status"]),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(places__gt=0), name="booking_places_pos"),
            models.CheckConstraint(
                condition=Q(slot__isnull=False) | Q(provider__isnull=False),
                name="booking_has_slot_or_provider",
            ),
        ]

    def __str__(self):
        return f"booking {self.pk} {self.status}"

    @property
    def is_cancelled(self) -> bool:
        return self.status in (BookingStatus.CANCELLED, BookingStatus.CANCELLED_BY_STAFF)


class Participant(models.Model):
    """One of a booking's places: one person, with their form answers (encrypted at rest)."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="participants")
    position = models.PositiveSmallIntegerField()
    answers = EncryptedJSONField(null=True, blank=True)

    class Meta:
        ordering = ["booking", "position"]
        constraints = [
            models.UniqueConstraint(fields=["booking", "position"], name="participant_unique_position")
        ]


class SlotUsage(models.Model):
    """How many live bookings one customer holds in one slot: the per-user limit's guard.

    Created with INSERT … ON CONFLICT DO NOTHING, then raised by a conditional UPDATE
    (`count + 1 <= limit`), so two concurrent bookings by one person cannot both pass.
    """

    slot = models.ForeignKey("scheduling.TimeSlot", on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                                 related_name="+")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["slot", "customer"], name="slot_usage_unique")
        ]
