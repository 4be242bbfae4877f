from django.conf import settings
from django.db import models


class AuditLog(models.Model):
    """Who did what to which thing, written in the same transaction as the change itself."""

    at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    action = models.CharField(max_length=64)  # indexed below (no LIKE index on PostgreSQL)
    target_type = models.CharField(max_length=64, blank=True)
    target_id = models.CharField(max_length=64, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["target_type", "target_id"]),
            models.Index(fields=["action"], name="auditlog_action"),
        ]
        ordering = ["-at", "-id"]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.action} {self.target_type}#{self.target_id}"


class IdempotencyRecord(models.Model):
    """The answer to a create request, kept so that a retry with the same key gets it again."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=100)
    scope = models.CharField(max_length=64)
    request_hash = models.CharField(max_length=64)
    status = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "scope", "key"], name="idempotency_unique_key")
        ]


class WorkerBeat(models.Model):
    """A job worker's heartbeat: written every YUYUE_WORKER_BEAT_SECONDS while it runs, removed
    when it stops cleanly. A row not written for YUYUE_WORKER_DEAD_SECONDS is a dead worker
    (killed, or its machine gone): readiness reports it and its running job is run again."""

    worker_id = models.CharField(max_length=64, primary_key=True)
    host = models.CharField(max_length=255)
    pid = models.PositiveIntegerField()
    started_at = models.DateTimeField()
    beat_at = models.DateTimeField(db_index=True)
    job_id = models.CharField(max_length=64, blank=True)  # the job it runs now, if any
    jobs_run = models.PositiveIntegerField(default=0)

    def __str__(self):
        return f"{self.worker_id} on {self.host} (pid {self.pid})"
