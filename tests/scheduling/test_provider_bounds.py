"""What a merchant lets its providers set themselves: their own price within two amounts and
their working hours within two times of day. The merchant's managers set any; a provider's own
hours or price beyond the bounds are refused with a clear code and change nothing."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.test import Client
from PIL import Image

from tests.conftest import make_user
from yuyue.accounts.models import Provider
from yuyue.catalog import store
from yuyue.catalog.onboarding import submit_application
from yuyue.core.errors import DomainError
from yuyue.scheduling import services as scheduling
from yuyue.scheduling.models import AvailabilityException, WorkingHours


@pytest.fixture
def bounded(merchant, owner):
    return store.set_provider_bounds(
        actor=owner,
        merchant=merchant,
        price_min_fen=8000,
        price_max_fen=20000,
        hours_start=dt.time(7),
        hours_end=dt.time(21),
    )


def test_a_provider_keeps_their_own_hours_within_the_merchants(bounded, provider, owner):
    week = [{"weekday": 0, "start": "06:00", "end": "12:00"}]
    with pytest.raises(DomainError) as err:
        scheduling.set_working_hours(actor=provider.user, provider=provider, hours=week)
    assert err.value.code == "hours_out_of_bounds"
    assert "07:00" in err.value.message("en") and "21:00" in err.value.message("en")
    assert not WorkingHours.objects.filter(provider=provider).exists()
    with pytest.raises(DomainError):
        scheduling.add_availability_exception(
            actor=provider.user, provider=provider, date=dt.date(2027, 3, 1),
            start=dt.time(20), end=dt.time(23), kind="extra",
        )  # fmt: skip
    assert not AvailabilityException.objects.exists()
    # leave is never bounded, and the merchant's managers set any hours
    scheduling.add_availability_exception(
        actor=provider.user, provider=provider, date=dt.date(2027, 3, 1),
        start=dt.time(0), end=dt.time(23, 59), kind="leave",
    )  # fmt: skip
    scheduling.set_working_hours(actor=owner, provider=provider, hours=week)
    scheduling.set_working_hours(
        actor=provider.user,
        provider=provider,
        hours=[{"weekday": 1, "start": "07:00", "end": "21:00"}],
    )
    assert WorkingHours.objects.filter(provider=provider).count() == 1


def test_an_applicant_asks_a_price_within_the_merchants(bounded, merchant, onsite_service):
    from yuyue.catalog.models import ServiceKind

    assert onsite_service.kind == ServiceKind.ON_SITE
    picture = io.BytesIO()
    Image.new("RGB", (300, 200), "white").save(picture, "PNG")
    applicant = make_user("Applicant Zhu")
    args = dict(
        actor=applicant, real_name="朱丽", id_number="11010519491231002X",
        service_ids=[onsite_service.pk], lat=31.23, lng=121.47, radius_km=5,
        merchant_id=merchant.pk,
        documents=[("photo", picture.getvalue()), ("id_front", picture.getvalue())],
    )  # fmt: skip
    with pytest.raises(DomainError) as err:
        submit_application(price_fen=30000, **args)
    assert err.value.code == "price_out_of_bounds"
    assert submit_application(price_fen=15000, **args).price_fen == 15000


def test_the_bounds_are_set_on_the_store_page(merchant, owner, clerk):
    page = Client()
    page.force_login(owner)
    page.post(
        "/shop/store/provider-bounds/",
        {"price_min": "80", "price_max": "200", "hours_start": "07:00", "hours_end": "21:00"},
    )
    merchant.refresh_from_db()
    assert (merchant.provider_price_min_fen, merchant.provider_price_max_fen) == (8000, 20000)
    assert (merchant.provider_hours_start, merchant.provider_hours_end) == (dt.time(7), dt.time(21))
    page.post("/shop/store/provider-bounds/", {"hours_start": "21:00", "hours_end": "07:00"})
    merchant.refresh_from_db()
    assert merchant.provider_hours_start == dt.time(7)  # refused whole
    as_clerk = Client()
    as_clerk.force_login(clerk)
    assert as_clerk.post("/shop/store/provider-bounds/", {}).status_code == 403
    assert Provider.objects.count() == 0
