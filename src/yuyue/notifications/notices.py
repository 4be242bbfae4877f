"""In-app notices: what `notify` told a person, to read in the app and mark read."""

from __future__ import annotations

from django.utils import timezone

from yuyue.core.errors import DomainError

from .models import Notice


def my_notices(*, actor, unread_only: bool = False, limit: int = 50) -> list[Notice]:
    rows = Notice.objects.filter(user_id=actor.pk)
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    return list(rows[:limit])


def mark_read(*, actor, notice_id: int) -> Notice:
    """Mark one of your notices read (again: no change)."""
    notice = Notice.objects.filter(pk=notice_id, user_id=actor.pk).first()
    if notice is None:
        raise DomainError("not_found")
    Notice.objects.filter(pk=notice.pk, read_at__isnull=True).update(read_at=timezone.now())
    notice.refresh_from_db()
    return notice
