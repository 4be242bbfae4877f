"""Fixtures for the money tests."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from yuyue.scheduling.models import TimeSlot


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
