from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from tests.conftest import make_user
from yuyue.accounts.models import Provider
from yuyue.scheduling.models import WorkingHours

SH = ZoneInfo("Asia/Shanghai")
HOME = (31.2304, 121.4737)


@pytest.fixture
def crew(merchant, onsite_service):
    """Three verified cleaners around People's Square working 08:00-20:00 every day."""
    onsite_service.base_price_fen = 0
    onsite_service.save()
    people = []
    for i, (dlat, rating) in enumerate([(0.005, 4.9), (0.02, 4.8), (0.04, 5.0)]):
        p = Provider.objects.create(
            user=make_user(f"Cleaner {i}"),
            merchant=merchant,
            display_name=f"Cleaner {i}",
            verified=True,
            rating=rating,
            lat=HOME[0] + dlat,
            lng=HOME[1],
            service_radius_km=10,
        )
        p.services.add(onsite_service)
        WorkingHours.objects.bulk_create(
            WorkingHours(provider=p, weekday=d, start=dt.time(8), end=dt.time(20)) for d in range(7)
        )
        people.append(p)
    return people


@pytest.fixture
def at_ten(tomorrow_local):
    return dt.datetime.combine(tomorrow_local, dt.time(10), tzinfo=SH)
