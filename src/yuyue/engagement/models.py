"""Reviews of finished orders: scores for the service and the provider (and the dimensions of
the service's category), text, photos, anonymity, the merchant's one reply, reports, and
moderation."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q


class ReviewStatus(models.TextChoices):
    PUBLISHED = "published", "published"
    PENDING = "pending", "waiting for moderation"
    HIDDEN = "hidden", "hidden by an operator"


class Review(models.Model):
    booking = models.OneToOneField(
        "orders.Booking", on_delete=models.PROTECT, related_name="review"
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews"
    )
    merchant = models.ForeignKey("catalog.Merchant", on_delete=models.PROTECT, related_name="+")
    service = models.ForeignKey("catalog.Service", on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(
        "accounts.Provider", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    service_score = models.PositiveSmallIntegerField()
    provider_score = models.PositiveSmallIntegerField(null=True, blank=True)
    dimensions = models.JSONField(default=dict, blank=True, help_text="{key: score 1-5}")
    text = models.TextField(blank=True)
    anonymous = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.PUBLISHED
    )
    hidden_reason = models.CharField(max_length=300, blank=True)
    check_note = models.CharField(max_length=100, blank=True, help_text="The content check's say.")
    reply = models.TextField(blank=True)
    replied_at = models.DateTimeField(null=True, blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    edited_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["provider", "status"]),
            models.Index(fields=["merchant", "status", "created_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(service_score__gte=1, service_score__lte=5), name="review_score_range"
            ),
            models.CheckConstraint(
                condition=Q(provider_score__isnull=True)
                | Q(provider_score__gte=1, provider_score__lte=5),
                name="review_provider_score_range",
            ),
        ]


class ReviewPhoto(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to="reviews/%Y/%m/")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]


class ReviewReport(models.Model):
    review = models.ForeignKey(Review, on_delete=models.CASCADE, related_name="reports")
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["review", "reporter"], name="review_reported_once")
        ]


class CaseStatus(models.TextChoices):
    OPEN = "open", "waiting for the merchant"
    ANSWERED = "answered", "waiting for the platform"
    REFUNDING = "refunding", "a refund decided, being paid"
    REFUNDED = "refunded", "refunded"
    CLOSED = "closed", "closed without a refund"


OPEN_CASE = (CaseStatus.OPEN, CaseStatus.ANSWERED, CaseStatus.REFUNDING)


class CaseReason(models.TextChoices):
    QUALITY = "quality", "the work was poorly done"
    NOT_DONE = "not_done", "the service did not happen as booked"
    DAMAGE = "damage", "something was damaged"
    CONDUCT = "conduct", "the provider's conduct"
    OTHER = "other", "something else"


class Case(models.Model):
    """An after-sales case 售后 on an order: the customer asks for money back with a reason;
    the merchant answers by a deadline, the platform decides (a refund of all or part, or
    closed with a reason) by another; a missed deadline goes to the operators."""

    booking = models.ForeignKey("orders.Booking", on_delete=models.PROTECT, related_name="cases")
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    merchant = models.ForeignKey("catalog.Merchant", on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(
        "accounts.Provider", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=10, choices=CaseReason.choices)
    text = models.TextField(blank=True)
    amount_asked_fen = models.PositiveBigIntegerField()
    status = models.CharField(max_length=10, choices=CaseStatus.choices, default=CaseStatus.OPEN)
    answer = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answer_due = models.DateTimeField()
    decide_due = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    refund_fen = models.PositiveBigIntegerField(default=0)
    decision_note = models.CharField(max_length=300, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["booking"],
                condition=Q(status__in=["open", "answered", "refunding"]),
                name="case_one_open_per_order",
            )
        ]
        indexes = [
            models.Index(fields=["merchant", "status"]),
            models.Index(fields=["status", "answer_due"]),
        ]


class CaseEvent(models.Model):
    """A step of a case's timeline, as both sides see it."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    role = models.CharField(max_length=10)  # customer | merchant | operator | system
    kind = models.CharField(max_length=12)  # opened | answered | escalated | refunded | closed
    text = models.TextField(blank=True)
    amount_fen = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["at", "pk"]


class CasePhoto(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField(upload_to="cases/%Y/%m/")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]


# --- chat ------------------------------------------------------------------------------------


class ConversationKind(models.TextChoices):
    ORDER = "order", "an order's customer and provider"
    SUPPORT = "support", "a customer and a merchant's or the platform's support"


class Conversation(models.Model):
    """A chat: an order's (its customer and its provider) or a customer's with support (a
    merchant's staff, or the platform's operators when `merchant` is empty)."""

    kind = models.CharField(max_length=8, choices=ConversationKind.choices)
    booking = models.ForeignKey(
        "orders.Booking", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    provider_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="An order chat's other side.",
    )
    merchant = models.ForeignKey(
        "catalog.Merchant", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_message_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_text = models.CharField(max_length=120, blank=True)
    last_kind = models.CharField(max_length=8, blank=True, help_text="The last message's kind.")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["booking"], condition=Q(kind="order"), name="chat_one_per_order"
            ),
            models.UniqueConstraint(
                fields=["customer", "merchant"],
                condition=Q(kind="support", merchant__isnull=False),
                name="chat_one_support_per_merchant",
            ),
            models.UniqueConstraint(
                fields=["customer"],
                condition=Q(kind="support", merchant__isnull=True),
                name="chat_one_platform_support",
            ),
        ]


class MessageKind(models.TextChoices):
    TEXT = "text", "text"
    IMAGE = "image", "a picture"
    ORDER = "order", "an order's card"


class Message(models.Model):
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    side = models.CharField(max_length=8, help_text="customer, provider or support")
    kind = models.CharField(max_length=8, choices=MessageKind.choices, default=MessageKind.TEXT)
    text = models.TextField(blank=True, help_text="Phone numbers masked before it is stored.")
    image = models.FileField(upload_to="chat/%Y/%m/", blank=True)
    booking = models.ForeignKey(
        "orders.Booking", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    client_key = models.CharField(max_length=64, help_text="The sender's key: a retry is one.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sender", "client_key"], name="chat_send_once")
        ]
        indexes = [models.Index(fields=["conversation", "id"], name="chat_history")]


class Receipt(models.Model):
    """One row per recipient of a message (Zulip's UserMessage): unread until read, found
    through a partial index over the unread ones only."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="receipts")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "message"], name="chat_one_receipt")]
        indexes = [
            models.Index(
                fields=["user", "conversation"],
                condition=Q(read_at__isnull=True),
                name="chat_unread",
            )
        ]


class UnreadCount(models.Model):
    """How many messages a person has not read, kept with the receipts in the same transactions
    (raised by a send, lowered by exactly the receipts a read marks): the header's badge is one
    row, however many messages the person has (the partial index counts per conversation)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    count = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(count__gte=0), name="chat_unread_never_negative")
        ]


# --- favourites ------------------------------------------------------------------------------


class FavouriteKind(models.TextChoices):
    PROVIDER = "provider", "a provider"
    SERVICE = "service", "a service"
    MERCHANT = "merchant", "a merchant"


class Favourite(models.Model):
    """A provider, service or merchant a customer saved (once)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=8, choices=FavouriteKind.choices)
    target_id = models.PositiveBigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "target_id"], name="favourite_once")
        ]


class Audience(models.TextChoices):
    CUSTOMERS = "customers", "customers"
    PROVIDERS = "providers", "providers"
    STAFF = "staff", "a merchant's staff"


class Announcement(models.Model):
    """Something said to many for a while: by the platform (no merchant; every customer, every
    provider or every merchant's staff) or by a merchant (its store's customers, its providers,
    its staff), shown from `starts_at` until `ends_at`."""

    merchant = models.ForeignKey(
        "catalog.Merchant",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="announcements",
    )
    audience = models.CharField(max_length=10, choices=Audience.choices)
    title = models.CharField(max_length=100)
    body = models.TextField(max_length=2000, blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    author = models.ForeignKey("accounts.User", on_delete=models.PROTECT, related_name="+")
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["audience", "ends_at"], name="announcement_current")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(ends_at__gt=models.F("starts_at")),
                name="announcement_ends_after_start",
            )
        ]
