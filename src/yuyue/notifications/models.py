from django.conf import settings
from django.db import models
from django.db.models import Q


class Notice(models.Model):
    """An in-app message to one person: reminders, warnings, news of their orders."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=48)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "core_notice"  # created by core before this part existed (moved, not copied)
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="core_notice_user_id_d50ea3_idx")]

    def __str__(self):
        return f"{self.kind} → user {self.user_id}"


class SubscribeCredit(models.Model):
    """WeChat subscribe messages 订阅消息: each time a person accepts a template in the
    mini-program (wx.requestSubscribeMessage), one message of it may be sent to them once."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    template = models.CharField(max_length=48, help_text="The kind of notice it is for.")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "template"], name="one_credit_row")]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "waiting to be sent"
    SENDING = "sending", "claimed by a worker"
    SENT = "sent", "sent"
    SKIPPED = "skipped", "not sent (read, no longer true, no credit)"
    REFUSED = "refused", "refused by the person (WeChat 43101)"
    FAILED = "failed", "failed after its tries"


class Delivery(models.Model):
    """A notice on its way through one channel beyond the app: one row per notice and channel,
    claimed by one worker, sent at most once."""

    notice = models.ForeignKey(Notice, on_delete=models.CASCADE, related_name="deliveries")
    channel = models.CharField(max_length=12)
    status = models.CharField(
        max_length=8, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_try_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["notice", "channel"], name="one_delivery_a_channel")
        ]
        indexes = [
            models.Index(
                fields=["next_try_at"], condition=Q(status="pending"), name="deliveries_due"
            )
        ]


class NoticeMute(models.Model):
    """A kind of notice a person does not want through a channel (people choose what they
    receive beyond the app; in the app every notice stays)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notice_mutes"
    )
    kind = models.CharField(max_length=48)
    channel = models.CharField(max_length=12)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "kind", "channel"], name="one_mute")]
