"""Time: hall calendars of slots with capacity, and providers' working hours and reservations."""

from __future__ import annotations

from django.db import models
from django.db.models import F, Q


class SlotStatus(models.TextChoices):
    OPEN = "open", "open"
    CLOSED = "closed", "closed"


class SlotTemplate(models.Model):
    """A week pattern of slots that fills a range of days at once.

    `rows` is a list of {"weekdays": [0..6], "start": "09:00", "end": "10:00", "capacity": 10|null};
    weekday 0 is Monday, times are in the merchant's zone.
    """

    service = models.ForeignKey(
        "catalog.Service", on_delete=models.CASCADE, related_name="slot_templates"
    )
    hall = models.ForeignKey(
        "catalog.Hall", on_delete=models.CASCADE, related_name="slot_templates"
    )
    name = models.CharField(max_length=100)
    rows = models.JSONField(default=list)

    def __str__(self):
        return self.name


class TimeSlot(models.Model):
    """One bookable period of a hall-slot service at a hall, with a capacity of places.

    `booked` is the number of places held by live bookings; `cancelled` and `cancelled_by_staff`
    count places given back. They are changed only by conditional UPDATEs in the booking services,
    in the same transaction as the booking rows, and the database refuses `booked > capacity`.
    """

    service = models.ForeignKey("catalog.Service", on_delete=models.PROTECT, related_name="slots")
    hall = models.ForeignKey("catalog.Hall", on_delete=models.PROTECT, related_name="slots")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    capacity = models.PositiveIntegerField(null=True, blank=True, help_text="Empty: unlimited.")
    booked = models.PositiveIntegerField(default=0)
    cancelled = models.PositiveIntegerField(default=0)
    cancelled_by_staff = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=8, choices=SlotStatus.choices, default=SlotStatus.OPEN)
    template = models.ForeignKey(
        SlotTemplate, null=True, blank=True, on_delete=models.SET_NULL, related_name="slots"
    )

    class Meta:
        ordering = ["starts_at", "id"]
        indexes = [models.Index(fields=["service", "starts_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["service", "hall", "starts_at"], name="slot_unique_start"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="slot_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(capacity__isnull=True) | Q(booked__lte=F("capacity")),
                name="slot_never_overbooked",
            ),
        ]

    def __str__(self):
        return f"{self.service} @ {self.hall.name} {self.starts_at:%Y-%m-%d %H:%M}Z"

    @property
    def remaining(self) -> int | None:
        return None if self.capacity is None else self.capacity - self.booked


class WorkingHours(models.Model):
    """A provider's regular weekly hours, in the provider's zone. Weekday 0 is Monday."""

    provider = models.ForeignKey(
        "accounts.Provider", on_delete=models.CASCADE, related_name="working_hours"
    )
    weekday = models.PositiveSmallIntegerField()
    start = models.TimeField()
    end = models.TimeField()

    class Meta:
        ordering = ["provider", "weekday", "start"]
        constraints = [
            models.CheckConstraint(condition=Q(weekday__lte=6), name="hours_weekday_range"),
            models.CheckConstraint(condition=Q(end__gt=F("start")), name="hours_end_after_start"),
        ]


class ExceptionKind(models.TextChoices):
    LEAVE = "leave", "leave (not working)"
    EXTRA = "extra", "extra hours"


class AvailabilityException(models.Model):
    """A dated change to the weekly hours: leave or extra hours, in the provider's zone."""

    provider = models.ForeignKey(
        "accounts.Provider", on_delete=models.CASCADE, related_name="exceptions"
    )
    date = models.DateField()
    start = models.TimeField()
    end = models.TimeField()
    kind = models.CharField(max_length=8, choices=ExceptionKind.choices)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["provider", "date", "start"]
        indexes = [models.Index(fields=["provider", "date"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(end__gt=F("start")), name="exception_end_after_start"
            ),
        ]


class ProviderReservation(models.Model):
    """A provider's time taken by a job, from `starts_at` to `blocked_until` (end + buffer).

    Two active reservations of one provider never overlap: on PostgreSQL an exclusion constraint
    (migration 0002) refuses it; on SQLite writes are serialised (BEGIN IMMEDIATE) and the
    booking service checks inside that transaction.
    """

    provider = models.ForeignKey(  # indexed by (provider, starts_at) below
        "accounts.Provider", on_delete=models.PROTECT, related_name="reservations", db_index=False
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    blocked_until = models.DateTimeField()
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["provider", "starts_at"]),
            # What is still busy on or after a day (availability, overlap checks): read from
            # the day on, not through every reservation the provider ever had.
            models.Index(
                fields=["provider", "blocked_until"],
                condition=Q(active=True),
                name="reservation_busy_until",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="reservation_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(blocked_until__gte=F("ends_at")), name="reservation_buffer_after_end"
            ),
        ]
