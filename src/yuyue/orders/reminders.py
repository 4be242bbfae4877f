"""Reminders: when a booking's next one is due (`remind_at`, ADR 0008), and the sweep that sends
them through notifications."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from yuyue.notifications.sending import notify
from yuyue.pricing.metering import rules_from

from .models import Booking, Channel
from .states import CLOSED


def _reminder_offsets(booking: Booking) -> list[int]:
    """Minutes before the start at which both sides are reminded."""
    if booking.channel == Channel.CALL:
        return sorted(rules_from(booking.service.call_rules).reminders, reverse=True)
    return [settings.YUYUE_REMINDER_MINUTES]


def first_reminder_at(booking: Booking, *, now: dt.datetime | None = None) -> dt.datetime | None:
    """When a new booking's first reminder to the customer and the provider is due: at the
    earliest of its offsets (YUYUE_REMINDER_MINUTES before, or each of a timed call's
    `reminders`) still ahead; if all of them have passed, at once; none once it has started.
    The reminder sweep (`send_due_reminders`) sends it and moves on to the next offset."""
    now = now or timezone.now()
    offsets = _reminder_offsets(booking)
    if booking.starts_at <= now or not offsets:  # a call's rules may ask for no reminders
        return None
    due = [booking.starts_at - dt.timedelta(minutes=m) for m in offsets]
    return min((at for at in due if at > now), default=now)


def send_due_reminders(*, now: dt.datetime | None = None, limit: int = 500) -> dict[str, int]:
    """The reminder sweep: every booking whose reminder is due reminds its customer and its
    provider (an in-app notice, and a text where YUYUE_SMS_KINDS says so) and gets its next
    reminder time, or none. A booking that has ended or closed gets none, and no message.

    Bookings are taken in due order, `limit` at a time, each batch locked (other sweeps skip
    them, so two workers never send one reminder twice); a sweep that falls behind sends one
    late reminder, not one per offset missed."""
    now = now or timezone.now()
    counts = {"sent": 0, "dropped": 0}
    while True:
        with transaction.atomic():
            due = list(
                Booking.objects.select_for_update(skip_locked=True, of=("self",))
                .select_related("provider", "service")
                .filter(remind_at__lte=now)
                .order_by("remind_at")[:limit]
            )
            for booking in due:
                offsets = _reminder_offsets(booking)
                ahead = booking.starts_at - booking.remind_at
                minutes = min(
                    (m for m in offsets if dt.timedelta(minutes=m) >= ahead),
                    default=offsets[-1] if offsets else 0,
                )
                following = [
                    booking.starts_at - dt.timedelta(minutes=m)
                    for m in offsets
                    if m < minutes and booking.starts_at - dt.timedelta(minutes=m) > now
                ]
                booking.remind_at = min(following, default=None)
                Booking.objects.filter(pk=booking.pk).update(remind_at=booking.remind_at)
                if booking.status in CLOSED or booking.ends_at <= now or not offsets:
                    counts["dropped"] += 1
                    continue
                told = [booking.customer_id]
                if booking.provider_id:
                    told.append(booking.provider.user_id)
                for user_id in told:
                    notify(
                        user_id,
                        "booking.reminder",
                        booking=booking.pk,
                        starts_at=booking.starts_at.isoformat(),
                        service=booking.service.name,
                        minutes_before=minutes,
                        call=booking.channel == Channel.CALL,
                    )
                counts["sent"] += 1
        if len(due) < limit:
            return counts


def still_coming(payload: dict) -> bool:
    """A reminder is still true while its booking is neither closed nor over (a WeChat message
    about a cancelled booking is not sent)."""
    booking = Booking.objects.filter(pk=payload.get("booking")).only("status", "ends_at").first()
    return booking is not None and booking.status not in CLOSED and booking.ends_at > timezone.now()
