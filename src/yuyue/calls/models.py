"""A timed call: one per booking of a remote service, with every join, leave and heartbeat."""

from __future__ import annotations

from django.db import models


class CallStatus(models.TextChoices):
    WAITING = "waiting", "waiting for both sides"
    LIVE = "live", "both in and their audio connected, the meter runs"
    PAUSED = "paused", "a side is gone, the meter is paused"
    ENDED = "ended", "ended and billed"
    MISSED = "missed", "never took place"


# the sides of a call (and the operator who may read its record)
CUSTOMER, CONSULTANT, OPERATOR = "customer", "consultant", "operator"
SIDES = (CUSTOMER, CONSULTANT)

OPEN = (CallStatus.WAITING, CallStatus.LIVE, CallStatus.PAUSED)


class CallSession(models.Model):
    booking = models.OneToOneField("orders.Booking", on_delete=models.PROTECT, related_name="call")
    rate_fen = models.PositiveBigIntegerField(help_text="Fen per minute, fixed at booking.")
    rules = models.JSONField(help_text="The service's call rules when the call was booked.")
    booked_seconds = models.PositiveIntegerField()
    status = models.CharField(max_length=8, choices=CallStatus.choices, default=CallStatus.WAITING)
    customer_present = models.BooleanField(default=False)
    consultant_present = models.BooleanField(default=False)
    customer_seen_at = models.DateTimeField(null=True, blank=True)
    consultant_seen_at = models.DateTimeField(null=True, blank=True)
    # Audio: each page reports its WebRTC connection's state; the meter runs only while both
    # are connected. A loss counts after the rules' media grace (from when it was reported).
    customer_media = models.BooleanField(default=False)
    consultant_media = models.BooleanField(default=False)
    customer_media_lost_at = models.DateTimeField(null=True, blank=True)
    consultant_media_lost_at = models.DateTimeField(null=True, blank=True)
    together_at = models.DateTimeField(
        null=True, blank=True, help_text="When both sides were first in the room at once."
    )
    live_since = models.DateTimeField(null=True, blank=True, help_text="The running segment.")
    paused_since = models.DateTimeField(null=True, blank=True)
    metered_ms = models.BigIntegerField(default=0, help_text="Closed segments, milliseconds.")
    first_live_at = models.DateTimeField(null=True, blank=True)
    hold = models.OneToOneField(
        "billing.Hold", null=True, blank=True, on_delete=models.PROTECT, related_name="call"
    )
    blocked = models.CharField(max_length=32, blank=True, help_text="Why the meter cannot start.")
    warned_at_limit = models.PositiveIntegerField(
        default=0, help_text="The limit (seconds) both sides were last warned about."
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=24, blank=True)
    metered_seconds = models.PositiveIntegerField(null=True, blank=True)
    charged_fen = models.BigIntegerField(null=True, blank=True)
    refunded_fen = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["status"])]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(metered_ms__gte=0), name="call_metered_nonneg"
            ),
        ]

    def __str__(self):
        return f"call #{self.pk} of booking #{self.booking_id} ({self.status})"


class CallEvent(models.Model):
    """What happened, on the server's clock: joins, leaves, heartbeats, warnings, the end."""

    call = models.ForeignKey(CallSession, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(db_index=True)
    party = models.CharField(max_length=12)  # customer, consultant, system, operator
    kind = models.CharField(max_length=16)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["call", "kind"])]

    def __str__(self):
        return f"{self.at:%H:%M:%S} {self.party} {self.kind}"
