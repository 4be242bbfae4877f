"""The kernel's housekeeping job, run by the database-backed worker (`manage.py db_worker`)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from .models import IdempotencyRecord
from .periodic import ensure_periodic_jobs, periodic

IDEMPOTENCY_RETENTION = dt.timedelta(hours=48)

__all__ = ["ensure_periodic_jobs", "purge_expired"]


@periodic(every=dt.timedelta(hours=1))
def purge_expired() -> dict:
    """Delete idempotency records older than a retry could come; again in an hour."""
    cut = timezone.now() - IDEMPOTENCY_RETENTION
    return {"idempotency": IdempotencyRecord.objects.filter(created_at__lt=cut).delete()[0]}
