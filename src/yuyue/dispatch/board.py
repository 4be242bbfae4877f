"""A merchant's dispatch board: its on-site orders by where they stand (waiting for a round,
offered, gone to the exceptions queue, accepted, under way, late), and for one order the
providers who could take it, with their distance, load, rating and record, and why not when they
cannot. Read by the merchant's managers (and operators); assigning goes through
`assigning.assign_order` / `reassign_order`."""

from __future__ import annotations

import datetime as dt

import numpy as np
from django.conf import settings
from django.db.models import Prefetch
from django.utils import timezone

from yuyue.accounts.auth import MANAGERS, require_staff
from yuyue.accounts.models import Provider
from yuyue.core.errors import DomainError
from yuyue.core.geo import haversine_km
from yuyue.orders.models import Booking, BookingStatus, Channel

from . import candidates
from .models import Offer, OfferStatus
from .record import recent_breaches

UNDER_WAY = (BookingStatus.DEPARTED, BookingStatus.ARRIVED, BookingStatus.IN_SERVICE)
COLUMNS = ("exceptions", "waiting", "offered", "late", "accepted", "under_way")


def dispatch_board(*, actor, merchant_id: int, days: int = 7, now=None) -> dict[str, list]:
    """The merchant's dispatch orders from those under way to those starting within `days`."""
    require_staff(actor, merchant_id, MANAGERS)
    now = now or timezone.now()
    grace = dt.timedelta(minutes=settings.YUYUE_LATE_GRACE_MINUTES)
    rows = (
        Booking.objects.filter(merchant_id=merchant_id, channel=Channel.DISPATCH)
        .filter(
            status__in=(BookingStatus.AWAITING_PROVIDER, BookingStatus.ACCEPTED, *UNDER_WAY),
            starts_at__lt=now + dt.timedelta(days=days),
            ends_at__gt=now - dt.timedelta(hours=12),
        )
        .select_related("service", "provider")
        .prefetch_related(
            Prefetch(
                "offers",
                queryset=Offer.objects.filter(status=OfferStatus.PENDING).select_related(
                    "provider"
                ),
                to_attr="pending",
            )
        )
        .order_by("starts_at", "id")[:500]
    )
    board: dict[str, list] = {c: [] for c in COLUMNS}
    for b in rows:
        b.offer = b.pending[0] if b.pending else None
        if b.status == BookingStatus.AWAITING_PROVIDER:
            column = "exceptions" if b.needs_operator else "offered" if b.offer else "waiting"
        elif b.status == BookingStatus.ACCEPTED:
            column = "late" if now > b.starts_at + grace else "accepted"
        elif b.status == BookingStatus.DEPARTED and now > b.starts_at + grace:
            column = "late"
        else:
            column = "under_way"
        board[column].append(b)
    return board


def order_candidates(*, actor, merchant_id: int, booking_id: int) -> tuple[Booking, list[dict]]:
    """The merchant's providers of the order's service, nearest first: distance, open orders,
    done today, rating, recent breaches, duty, and '' or the rule that stops them taking it."""
    require_staff(actor, merchant_id, MANAGERS)
    booking = (
        Booking.objects.select_related("service", "provider")
        .filter(pk=booking_id, merchant_id=merchant_id, channel=Channel.DISPATCH)
        .first()
    )
    if booking is None:
        raise DomainError("not_found")
    people = list(
        Provider.objects.filter(merchant_id=merchant_id, services=booking.service_id)
        .exclude(pk=booking.provider_id or 0)
        .order_by("pk")
    )
    if not people:
        return booking, []
    today = timezone.now().date()
    pool = candidates.load_pool(
        [booking.service_id], provider_ids=[p.pk for p in people], today=today, for_round=True
    )
    index = {int(pid): j for j, pid in enumerate(pool.ids)}
    pj = np.array([index[p.pk] for p in people], np.int64)
    codes = candidates.reasons(
        candidates.Orders.of([booking]), pool, np.zeros(pj.size, np.int64), pj
    )
    breaches = recent_breaches([p.pk for p in people])
    out = []
    for p, j, code in zip(people, pj, codes, strict=True):
        km = (
            haversine_km(booking.lat, booking.lng, p.lat, p.lng)
            if None not in (booking.lat, booking.lng, p.lat, p.lng)
            else None
        )
        out.append(
            {
                "provider": p,
                "km": km,
                "open_now": int(pool.open_now[j]),
                "done_today": int(pool.done_today[j]),
                "rating": float(p.rating),
                "breaches": breaches.get(p.pk, 0),
                "duty": p.duty,
                "why_not": candidates.REASONS[int(code)],
            }
        )
    out.sort(key=lambda c: (c["why_not"] != "", c["km"] is None, c["km"] or 0))
    return booking, out
