from django.conf import settings
from django.db import models


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
