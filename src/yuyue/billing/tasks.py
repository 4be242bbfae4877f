"""Billing jobs on the database worker."""

from __future__ import annotations

import datetime as dt

import httpx
from django.conf import settings
from django_tasks import task

from yuyue.core.periodic import periodic
from yuyue.core.timeutil import zone


@task()
def sandbox_notify(out_trade_no: str, decline: bool = False, times: int = 1) -> list[int]:
    """The sandbox gateway calling our notify URL back over HTTP, like a real gateway."""
    from .gateways.sandbox import SIGNATURE_HEADER, SandboxGateway, sign
    from .models import Payment

    payment = Payment.objects.get(out_trade_no=out_trade_no)
    body = SandboxGateway().notification_body(payment, decline=decline)
    url = settings.YUYUE_PUBLIC_BASE_URL.rstrip("/") + "/api/payments/notify/sandbox"
    statuses = []
    for _ in range(times):
        response = httpx.post(
            url,
            content=body,
            timeout=10,
            headers={SIGNATURE_HEADER: sign(body), "Content-Type": "application/json"},
        )
        statuses.append(response.status_code)
    return statuses


@task()
def refund_late_payment(payment_id: int) -> bool:
    from .payments import refund_late_payment as refund

    return refund(payment_id=payment_id)


@task()
def settle_order_job(booking_id: int) -> bool:
    from .settlement import settle_order

    return settle_order(booking_id=booking_id) is not None


@task()
def release_earnings_job(booking_id: int) -> bool:
    from .settlement import release_earnings

    return release_earnings(booking_id=booking_id) is not None


REFUND_RETRIES = 12  # a gateway that fails a refund is asked again every 10 minutes, 2 hours


def _again_later(job, exc, booking_id: int, attempt: int) -> None:
    """A refund the gateway failed stays claimed; the job runs again later and finishes it."""
    import logging

    from django.utils import timezone

    if getattr(exc, "code", "") != "gateway_error" or attempt >= REFUND_RETRIES:
        return
    logging.getLogger(__name__).warning(
        "refund for booking %s failed at the gateway (attempt %s): retrying", booking_id, attempt
    )
    job.using(run_after=timezone.now() + dt.timedelta(minutes=10)).enqueue(booking_id, attempt + 1)


@task()
def refund_cancelled_order_job(booking_id: int, attempt: int = 1) -> int:
    from yuyue.core.errors import DomainError

    from .refunds import refund_cancelled_order

    try:
        record = refund_cancelled_order(booking_id=booking_id)
    except DomainError as exc:
        _again_later(refund_cancelled_order_job, exc, booking_id, attempt)
        raise
    return record.amount_fen if record else 0


def _two_tomorrow(now: dt.datetime) -> dt.datetime:
    """02:00 of the next platform day."""
    tz = zone(settings.YUYUE_DEFAULT_TIMEZONE)
    tomorrow = now.astimezone(tz).date() + dt.timedelta(days=1)
    return dt.datetime.combine(tomorrow, dt.time(2), tzinfo=tz)


@periodic(every=dt.timedelta(hours=1))
def expire_points_job() -> int:
    """Once an hour: points past their expiry are gone."""
    from .loyalty import expire_points

    return expire_points()


@periodic(next_run=_two_tomorrow)
def reconcile_job() -> dict:
    """Every night at 02:00 (platform time): reconcile yesterday with the sandbox gateway."""
    from .reports import reconcile_yesterday

    runs = reconcile_yesterday()
    return {r.gateway: {"day": r.day.isoformat(), "ok": r.ok} for r in runs}


@task()
def settle_no_show_job(booking_id: int, attempt: int = 1) -> int | None:
    from yuyue.core.errors import DomainError

    from .refunds import settle_no_show

    try:
        record = settle_no_show(booking_id=booking_id)
    except DomainError as exc:
        _again_later(settle_no_show_job, exc, booking_id, attempt)
        raise
    return record.amount_fen if record else None


@periodic(every=dt.timedelta(minutes=10))
def mark_no_shows_job() -> int:
    """Every ten minutes: hall-slot bookings never checked in, their slot over for
    YUYUE_NO_SHOW_GRACE_MINUTES, become no-shows (and paid ones are settled by the rules)."""
    from django.db import transaction
    from django.utils import timezone

    from yuyue.orders.models import Booking, BookingStatus, Channel
    from yuyue.orders.states import SYSTEM, apply_step

    cut = timezone.now() - dt.timedelta(minutes=settings.YUYUE_NO_SHOW_GRACE_MINUTES)
    done = 0
    for booking in Booking.objects.filter(
        channel=Channel.HALL_SLOT, status=BookingStatus.BOOKED, ends_at__lt=cut
    )[:500]:
        with transaction.atomic():  # a paid one is settled by billing's receiver of the step
            apply_step(booking, "no_show", actor=None, role=SYSTEM)
        done += 1
    return done


@periodic(every=dt.timedelta(minutes=10))
def summarise_figures_job() -> int:
    """Every ten minutes: each merchant's figures of today and yesterday (the dashboard)."""
    from .figures import summarise_recent

    return summarise_recent(days=2)


def _three_tomorrow(now):
    tz = zone(settings.YUYUE_DEFAULT_TIMEZONE)
    tomorrow = now.astimezone(tz).date() + dt.timedelta(days=1)
    return dt.datetime.combine(tomorrow, dt.time(3), tzinfo=tz)


@periodic(next_run=_three_tomorrow)
def summarise_month_job() -> int:
    """Every night at 03:00: the last 31 days again (refunds and no-shows change past days)."""
    from .figures import summarise_recent

    return summarise_recent(days=31)
