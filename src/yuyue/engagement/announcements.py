"""Announcements: something said to many for a while. The platform's operators speak to every
customer, every provider or every merchant's staff; a merchant's owners and managers to their
store's customers, their providers or their staff. Each is shown from its start until its end
(or until it is withdrawn), newest first, to the pages of its audience: the home page and a store
page for customers, the provider's day, the back office's home."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from yuyue.accounts.auth import MANAGERS, require_staff
from yuyue.core.audit import audit
from yuyue.core.errors import DomainError

from .models import Announcement, Audience

MAX_DAYS = 366
SHOWN = 5  # at most so many at once on a page


def _may_speak(actor, merchant_id: int | None) -> None:
    """Operators speak for the platform, a merchant's owners and managers for it."""
    if merchant_id is None:
        if not getattr(actor, "is_operator", False):
            raise DomainError("forbidden")
    else:
        require_staff(actor, merchant_id, MANAGERS)


def publish(
    *,
    actor,
    audience: str,
    title: str,
    body: str = "",
    starts_at: dt.datetime | None = None,
    ends_at: dt.datetime,
    merchant_id: int | None = None,
) -> Announcement:
    """An announcement of the platform (operators, no merchant) or of a merchant (its owners
    and managers), to one audience, shown from `starts_at` (now by default) until `ends_at`."""
    _may_speak(actor, merchant_id)
    if audience not in Audience.values:
        raise DomainError("invalid_input", f"audience: one of {', '.join(Audience.values)}")
    title, body = (title or "").strip(), (body or "").strip()
    if not title or len(title) > 100 or len(body) > 2000:
        raise DomainError("invalid_input", "A title of 1 to 100 characters, a text up to 2000.")
    now = timezone.now()
    starts_at = starts_at or now
    if ends_at <= max(starts_at, now) or ends_at - starts_at > dt.timedelta(days=MAX_DAYS):
        raise DomainError("invalid_date_range", max_days=MAX_DAYS)
    made = Announcement.objects.create(
        merchant_id=merchant_id,
        audience=audience,
        title=title,
        body=body,
        starts_at=starts_at,
        ends_at=ends_at,
        author=actor,
    )
    audit(actor, "announcement.publish", made, audience=audience, merchant=merchant_id)
    return made


def withdraw(*, actor, announcement_id: int) -> Announcement:
    """Stop showing an announcement (its author's side: operators or the merchant's managers)."""
    made = Announcement.objects.filter(pk=announcement_id, withdrawn_at__isnull=True).first()
    if made is None:
        raise DomainError("not_found")
    try:
        _may_speak(actor, made.merchant_id)
    except DomainError as exc:
        raise DomainError("not_found") from exc  # another side's: not theirs to see
    made.withdrawn_at = timezone.now()
    made.save(update_fields=["withdrawn_at"])
    audit(actor, "announcement.withdraw", made)
    return made


def current(audience: str, *, merchant_ids=(), platform: bool = True) -> list[Announcement]:
    """What `audience` is told now: the platform's (unless `platform` is False) and those of
    the merchants named, newest first."""
    now = timezone.now()
    whose = Q(merchant_id__in=list(merchant_ids))
    if platform:
        whose |= Q(merchant__isnull=True)
    return list(
        Announcement.objects.filter(
            whose,
            audience=audience,
            starts_at__lte=now,
            ends_at__gt=now,
            withdrawn_at__isnull=True,
        )
        .select_related("merchant")
        .order_by("-starts_at", "-pk")[:SHOWN]
    )


def listed(*, actor, merchant_id: int | None = None) -> list[Announcement]:
    """The announcements a side has made (operators: the platform's; managers: their
    merchant's), the latest first, ended and withdrawn ones too."""
    _may_speak(actor, merchant_id)
    return list(
        Announcement.objects.filter(merchant_id=merchant_id).order_by("-created_at", "-pk")[:100]
    )
