"""A consultant selling time by the minute, a customer with money in the wallet, booked calls."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from tests.conftest import make_user
from yuyue.accounts.models import Provider
from yuyue.billing import ledger
from yuyue.billing.models import AccountKind
from yuyue.billing.payments import wallet
from yuyue.catalog.models import Service, ServiceKind
from yuyue.orders.services import book_provider
from yuyue.scheduling.models import WorkingHours

RATE = 120  # fen per minute: ¥1.20, so 60 s = 120 fen and one second = 2 fen


def top_up(user, amount, key="t"):
    with transaction.atomic():
        ledger.post_transfer(
            key=f"test-topup:{user.pk}:{key}:{amount}",
            kind="top_up",
            legs=[
                (ledger.account(AccountKind.GATEWAY_CLEARING), -amount),
                (wallet(user.pk), amount),
            ],
        )


@pytest.fixture
def call_service(merchant):
    return Service.objects.create(
        merchant=merchant,
        name="Legal advice by phone",
        kind=ServiceKind.REMOTE,
        duration_minutes=30,
        step_minutes=15,
        base_price_fen=RATE,
        call_rules={"grace_seconds": 20, "billing": "per_second"},
        refund_rules={"free_hours": 24, "fee_percent": 50, "no_show_percent": 100},
    )


@pytest.fixture
def consultant(merchant, call_service):
    user = make_user("Lawyer Gao")
    p = Provider.objects.create(
        user=user, merchant=merchant, display_name="Gao", verified=True, rate_per_minute_fen=RATE
    )
    p.services.add(call_service)
    for day in range(7):
        WorkingHours.objects.create(provider=p, weekday=day, start=dt.time(0), end=dt.time(23, 59))
    return p


def next_start(hours: float = 2) -> dt.datetime:
    """A start on the quarter hour, `hours` from now, that ends the same local day."""
    shanghai = dt.timezone(dt.timedelta(hours=8))
    at = timezone.now() + dt.timedelta(hours=hours)
    at = at.replace(minute=(at.minute // 15) * 15, second=0, microsecond=0)
    local = at.astimezone(shanghai)
    if local.hour >= 21:
        at += dt.timedelta(hours=4)
    return at


@pytest.fixture
def book_call(customer, consultant, call_service):
    """book_call(minutes=15, rules={...}, funds=...) → the booking (the clock: its start)."""

    def book(minutes=15, rules=None, funds=100_000, hours=2, who=None):
        who = who or customer
        if rules is not None:
            call_service.call_rules = rules
            call_service.save()
        if funds:
            top_up(who, funds, key=f"{minutes}-{hours}")
        return book_provider(
            actor=who,
            service_id=call_service.pk,
            provider_id=consultant.pk,
            starts_at=next_start(hours),
            minutes=minutes,
        )

    return book


def move_to_now(booking, lead_minutes: int = 1):
    """Arrange the clock for a live test: the booked call starts `lead_minutes` from now (the
    booking was made for a safe time of day; calls cannot be booked across local midnight)."""
    from yuyue.orders.models import Booking

    length = booking.ends_at - booking.starts_at
    start = timezone.now() + dt.timedelta(minutes=lead_minutes)
    Booking.objects.filter(pk=booking.pk).update(starts_at=start, ends_at=start + length)
    booking.refresh_from_db()
    return booking
