"""Fixtures for the money tests."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from yuyue.billing import ledger
from yuyue.billing.models import AccountKind
from yuyue.scheduling.models import TimeSlot


def fund(account, amount: int, *, key: str, kind: str = "top_up"):
    """Money arriving from outside (the gateway's clearing account) on `account`."""
    with transaction.atomic():
        ledger.post_transfer(
            key=key,
            kind=kind,
            legs=[(ledger.account(AccountKind.GATEWAY_CLEARING), -amount), (account, amount)],
        )


@pytest.fixture
def open_slot(hall_service, hall):
    """A slot at ¥20 a place that one customer may book many times."""
    hall_service.base_price_fen = 2000
    hall_service.per_user_limit = 20
    hall_service.save()
    start = timezone.now() + dt.timedelta(days=1)
    return TimeSlot.objects.create(
        service=hall_service,
        hall=hall,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        capacity=50,
    )
