"""A provider's record: the commitments they broke, each with its time and reason — an accepted
order given back (`Breach`, written by `provider_release_order`), an arrival later than the
grace after the start (`Breach`, written when the arrival is recorded), and offers turned down
or left to expire (the offers themselves, which keep their status, time and reason). Providers
see their own; operators any provider's. Dispatch weighs the recent ones (`recent_breaches`)
next to distance: every breach counts, and offers missed beyond YUYUE_MISSED_OFFERS_ALLOWED in
the last YUYUE_RECORD_DAYS days each count as one."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db.models import Count, Value
from django.utils import timezone

from yuyue.orders.models import Booking

from .models import Breach, Offer, OfferStatus


def note_late_arrival(sender, *, booking: Booking, step: str, **_) -> None:
    """On an arrival (`orders.events.step_taken`): later than YUYUE_LATE_GRACE_MINUTES after the
    start is a breach, in the order's transaction."""
    if step != "arrive" or booking.provider_id is None:
        return
    late = timezone.now() - booking.starts_at
    if late > dt.timedelta(minutes=settings.YUYUE_LATE_GRACE_MINUTES):
        Breach.objects.create(
            provider_id=booking.provider_id,
            booking=booking,
            kind="late_arrival",
            note=f"{int(late.total_seconds() // 60)} min late",
        )


def provider_record(provider, *, days: int = 30) -> dict:
    """The last `days` days: breaches, and offers turned down or expired, newest first."""
    since = timezone.now() - dt.timedelta(days=days)
    breaches = list(
        Breach.objects.filter(provider=provider, at__gte=since)
        .select_related("booking__service")
        .order_by("-at")[:100]
    )
    offers = list(
        Offer.objects.filter(
            provider=provider,
            status__in=[OfferStatus.REJECTED, OfferStatus.EXPIRED],
            sent_at__gte=since,
        )
        .select_related("booking__service")
        .order_by("-sent_at")[:100]
    )
    answered = Offer.objects.filter(provider=provider, sent_at__gte=since).count()
    return {
        "days": days,
        "breaches": breaches,
        "missed_offers": offers,
        "offers": answered,
        "released": sum(b.kind == "provider_cancelled" for b in breaches),
        "late": sum(b.kind == "late_arrival" for b in breaches),
        "rejected": sum(o.status == OfferStatus.REJECTED for o in offers),
        "expired": sum(o.status == OfferStatus.EXPIRED for o in offers),
        "weighed": recent_breaches([provider.pk]).get(provider.pk, 0),
        "forgiven": settings.YUYUE_MISSED_OFFERS_ALLOWED,
        "record_days": settings.YUYUE_RECORD_DAYS,
    }


def recent_breaches(providers) -> dict[int, int]:
    """What dispatch weighs, per provider id of `providers` (a queryset of providers or of their
    ids): breaches in the last YUYUE_RECORD_DAYS days, plus the offers turned down or left to
    expire beyond the YUYUE_MISSED_OFFERS_ALLOWED forgiven. One statement."""
    since = timezone.now() - dt.timedelta(days=settings.YUYUE_RECORD_DAYS)
    broken = (
        Breach.objects.filter(provider__in=providers, at__gte=since)
        .order_by()
        .values_list("provider_id")
        .annotate(n=Count("id"), missed=Value(False))
    )
    missed = (
        Offer.objects.filter(
            provider__in=providers,
            status__in=[OfferStatus.REJECTED, OfferStatus.EXPIRED],
            sent_at__gte=since,
        )
        .order_by()
        .values_list("provider_id")
        .annotate(n=Count("id"), missed=Value(True))
    )
    out: dict[int, int] = {}
    allowed = settings.YUYUE_MISSED_OFFERS_ALLOWED
    for pid, n, is_missed in broken.union(missed, all=True):
        n = max(0, n - allowed) if is_missed else n
        out[pid] = out.get(pid, 0) + n
    return out
