"""The order 订单 of every way of booking (called Booking: what the customer made), and its history.

One model serves hall slots, on-site orders dispatched by the platform, chosen providers, the
task hall and timed calls (`channel`). Fulfilment (`status`) and payment (`payment_status`) are
separate axes. Status changes go only through `orders.states.apply_step`, a conditional UPDATE
from the states a step may start in, so concurrent changes cannot both win. Never deleted.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from yuyue.core.crypto import EncryptedJSONField


class BookingStatus(models.TextChoices):
    AWAITING_PAYMENT = "awaiting_payment", "awaiting payment 待支付"
    AWAITING_PROVIDER = "awaiting_provider", "awaiting a provider 待接单"
    BOOKED = "booked", "booked 已预约"  # a confirmed hall-slot place: nothing to dispatch
    ACCEPTED = "accepted", "accepted 已接单"
    DEPARTED = "departed", "provider departed 已出发"
    ARRIVED = "arrived", "provider arrived 已到达"
    IN_SERVICE = "in_service", "in service 服务中"
    COMPLETED = "completed", "completed 已完成"
    CHECKED_IN = "checked_in", "checked in 已核销"
    CANCELLED = "cancelled", "cancelled by the customer"
    CANCELLED_BY_STAFF = "cancelled_by_staff", "cancelled by staff"
    EXPIRED = "expired", "expired unpaid"
    NO_SHOW = "no_show", "missed 未到场"


class Channel(models.TextChoices):
    HALL_SLOT = "hall_slot", "hall slot"
    DISPATCH = "dispatch", "on-site, dispatched by the platform"
    CHOSEN = "chosen", "chosen provider"
    TASK_HALL = "task_hall", "task hall"
    CALL = "call", "timed remote session"


class PaymentStatus(models.TextChoices):
    NOT_REQUIRED = "not_required", "nothing to pay"
    UNPAID = "unpaid", "unpaid"
    PAID = "paid", "paid"
    REFUNDED = "refunded", "refunded"
    PARTIALLY_REFUNDED = "partially_refunded", "partially refunded"
    METERED = "metered", "billed by the meter after the call"


class Booking(models.Model):
    """A booking 预约: N places in a hall slot, or a provider's time for an on-site/remote service.

    Status changes are made only by the services in `orders.services`, each a conditional UPDATE
    from the expected state, so concurrent changes cannot both win.
    """

    # customer, merchant and slot need no index of their own: the composite indexes in Meta
    # lead with them (fewer indexes to write on every booking)
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="bookings", db_index=False
    )
    merchant = models.ForeignKey(
        "catalog.Merchant", on_delete=models.PROTECT, related_name="bookings", db_index=False
    )
    service = models.ForeignKey(
        "catalog.Service", on_delete=models.PROTECT, related_name="bookings"
    )
    slot = models.ForeignKey(
        "scheduling.TimeSlot",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bookings",
        db_index=False,
    )
    provider = models.ForeignKey(
        "accounts.Provider",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="bookings",
        db_index=False,  # a partial index below: hall bookings have none
    )
    reservation = models.OneToOneField(
        "scheduling.ProviderReservation",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="booking",
    )
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    places = models.PositiveIntegerField(default=1)
    channel = models.CharField(max_length=12, choices=Channel.choices, default=Channel.HALL_SLOT)
    status = models.CharField(
        max_length=20, choices=BookingStatus.choices, default=BookingStatus.BOOKED
    )
    payment_status = models.CharField(
        max_length=20, choices=PaymentStatus.choices, default=PaymentStatus.NOT_REQUIRED
    )
    pay_before = models.DateTimeField(null=True, blank=True)
    quantity = models.PositiveIntegerField(default=1, help_text="Units of the service booked.")
    options = models.JSONField(default=dict, blank=True, help_text="area_m2, people, notes…")
    # on-site: where the work happens
    address = models.CharField(max_length=300, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    verify_attempts = models.PositiveSmallIntegerField(default=0)
    dispatch_rounds = models.PositiveSmallIntegerField(default=0)
    needs_operator = models.BooleanField(default=False, help_text="Dispatch gave up: manual.")
    series = models.ForeignKey(
        "orders.Series",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="occurrences",
        db_index=False,
    )
    # unique by the constraint below (a unique field would also get a LIKE index on PostgreSQL)
    code = models.CharField(max_length=16, help_text="Check-in code 核销码.")
    price_fen = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    cancel_reason = models.CharField(max_length=300, blank=True)
    cancelled_role = models.CharField(max_length=12, blank=True)
    checked_in_at = models.DateTimeField(null=True, blank=True)
    remind_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the next reminder before the start is due (empty: none left); "
        "the reminder sweep sends it.",
    )
    checked_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )

    class Meta:
        ordering = ["-starts_at", "-id"]
        # Every booking writes each index it is in. The foreign keys that most bookings leave
        # empty (a hall booking has no provider, series, canceller or checker) are indexed only
        # where set: the same lookups by them, without an entry per booking.
        indexes = [
            models.Index(fields=["customer", "starts_at"]),
            models.Index(fields=["merchant", "starts_at"]),
            models.Index(fields=["slot", "status"]),
            *(
                models.Index(
                    fields=[name], condition=Q(**{f"{name}__isnull": False}), name=f"booking_{name}"
                )
                for name in ("provider", "series", "cancelled_by", "checked_in_by")
            ),
            # the reminder sweep's: only bookings with a reminder still to send
            models.Index(
                fields=["remind_at"],
                condition=Q(remind_at__isnull=False),
                name="booking_remind_due",
            ),
            # the expiry sweep's: only orders waiting for their payment (ADR 0010)
            models.Index(
                fields=["pay_before"],
                condition=Q(status="awaiting_payment"),
                name="booking_pay_due",
            ),
        ]
        constraints = [
            models.UniqueConstraint(fields=["code"], name="booking_code_unique"),
            models.CheckConstraint(condition=Q(places__gt=0), name="booking_places_pos"),
            models.CheckConstraint(
                condition=Q(slot__isnull=False)
                | Q(provider__isnull=False)
                | Q(channel__in=["dispatch", "task_hall"]),
                name="booking_has_slot_or_provider",
            ),
        ]

    def __str__(self):
        return f"booking {self.pk} {self.status}"

    @property
    def is_cancelled(self) -> bool:
        return self.status in (BookingStatus.CANCELLED, BookingStatus.CANCELLED_BY_STAFF)


class Series(models.Model):
    """A recurring booking (monthly package 包月 and the like) of one provider.

    `rule` = {"weekdays": [0-6], "start": "09:00", "date_from": "YYYY-MM-DD",
    "date_to": "YYYY-MM-DD"} in the merchant's zone; each occurrence is a Booking with its own
    state. Changing the rule from a date on ends this series the day before and starts a new one
    (`previous`), so past occurrences keep the rule they were made under.
    """

    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="series"
    )
    provider = models.ForeignKey(
        "accounts.Provider", on_delete=models.PROTECT, related_name="series"
    )
    service = models.ForeignKey("catalog.Service", on_delete=models.PROTECT, related_name="+")
    rule = models.JSONField()
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="next"
    )
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # Where the provider comes (every occurrence is there), what the package costs in all (the
    # sum of its occurrences' prices when booked) and until when it can be paid: a package is
    # sold, paid and cancelled as one (`series.py`, `billing.packages.pay_package_with_wallet`).
    address = models.CharField(max_length=300, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    price_fen = models.BigIntegerField(default=0)
    pay_before = models.DateTimeField(null=True, blank=True)


class BookingEvent(models.Model):
    """One step in an order's life: who moved it from which state to which, when and where."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="events")
    step = models.CharField(max_length=24)
    from_status = models.CharField(max_length=20)
    to_status = models.CharField(max_length=20)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(max_length=12)
    at = models.DateTimeField(auto_now_add=True)
    lat = models.FloatField(null=True, blank=True)
    lng = models.FloatField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["booking", "at", "id"]


class Participant(models.Model):
    """One of a booking's places: one person, with their form answers (encrypted at rest)."""

    booking = models.ForeignKey(  # indexed by the unique (booking, position)
        Booking, on_delete=models.CASCADE, related_name="participants", db_index=False
    )
    position = models.PositiveSmallIntegerField()
    answers = EncryptedJSONField(null=True, blank=True)

    class Meta:
        ordering = ["booking", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["booking", "position"], name="participant_unique_position"
            )
        ]


class SlotUsage(models.Model):
    """How many live bookings one customer holds in one slot: the per-user limit's guard.

    Created with INSERT … ON CONFLICT DO NOTHING, then raised by a conditional UPDATE
    (`count + 1 <= limit`), so two concurrent bookings by one person cannot both pass.
    """

    slot = models.ForeignKey(  # indexed by the unique (slot, customer)
        "scheduling.TimeSlot", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["slot", "customer"], name="slot_usage_unique")
        ]


class WaitStatus(models.TextChoices):
    WAITING = "waiting", "waiting for a place"
    BOOKED = "booked", "booked a freed place"
    LEFT = "left", "left the list"
    FAILED = "failed", "could not be booked"
    CLOSED = "closed", "the slot closed first"


class WaitlistEntry(models.Model):
    """A customer waiting for places in a full hall slot (候补), with the booking form already
    answered (encrypted at rest): when places free up, the first who fit are booked by the same
    guards as any booking (`orders.waitlist`)."""

    slot = models.ForeignKey(
        "scheduling.TimeSlot", on_delete=models.CASCADE, related_name="waitlist"
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="waitlist"
    )
    places = models.PositiveSmallIntegerField(default=1)
    participants = EncryptedJSONField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=WaitStatus.choices, default=WaitStatus.WAITING)
    booking = models.OneToOneField(
        Booking, null=True, blank=True, on_delete=models.SET_NULL, related_name="from_waitlist"
    )
    reason = models.CharField(max_length=40, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["slot", "status", "created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["slot", "customer"],
                condition=Q(status="waiting"),
                name="waitlist_once_per_slot",
            )
        ]

    def __str__(self):
        return f"waiting for slot {self.slot_id}: {self.customer_id} ({self.status})"


class WorkPhoto(models.Model):
    """A picture of the finished work, taken by the provider when completing an order: cleaned
    of metadata (`core.images`) and kept through the storage API; shown to the order's customer
    and provider and to those who handle its after-sales."""

    booking = models.ForeignKey(Booking, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to="work/%Y/%m/")
    created_at = models.DateTimeField(auto_now_add=True)
