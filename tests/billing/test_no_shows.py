"""Customers who do not come: hall-slot bookings never checked in, on-site visits where nobody
opens the door. Paid ones are refunded by the service's no-show rule; what is kept is split."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.billing.test_payments import book, top_up
from tests.conftest import api_for
from yuyue.billing import ledger
from yuyue.billing.models import AccountKind
from yuyue.billing.payments import wallet
from yuyue.billing.refunds import escrow_held, settle_no_show
from yuyue.billing.tasks import mark_no_shows_job
from yuyue.orders.models import Booking, BookingEvent, BookingStatus
from yuyue.scheduling.models import TimeSlot, WorkingHours

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
HERE = {"lat": 31.2304, "lng": 121.4737}


@pytest.fixture(autouse=True)
def _steps_any_time(settings):
    """These orders start tomorrow and are worked through now: the windows in which each step
    may be taken are tested on their own (test_fulfilment.py, test_steps_wait_for_their_window)."""
    settings.YUYUE_STEP_EARLY_MINUTES = {}


def test_a_paid_hall_booking_never_checked_in_is_a_no_show(
    customer, open_slot, merchant, django_capture_on_commit_callbacks
):
    merchant.commission_bp = 2000
    merchant.save()
    service = open_slot.service
    service.refund_rules = {"no_show_percent": 50}
    service.save()
    top_up(customer, 5000)
    order = book(customer, open_slot)
    api_for(customer).post(f"/api/bookings/{order['id']}/pay/wallet", {"no_coupon": True})
    other = book(customer, open_slot)  # unpaid: expires, never a no-show
    past = timezone.now() - dt.timedelta(hours=2)
    TimeSlot.objects.filter(pk=open_slot.pk).update(
        starts_at=past, ends_at=past + dt.timedelta(hours=1)
    )
    Booking.objects.filter(pk__in=[order["id"], other["id"]]).update(
        starts_at=past, ends_at=past + dt.timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert mark_no_shows_job.func(reschedule=False) == 1
    booking = Booking.objects.get(pk=order["id"])
    # its settlement is queued once, by billing's receiver of the no_show step
    settling = DBTaskResult.objects.filter(task_path__endswith="settle_no_show_job")
    assert [r.args_kwargs["args"] for r in settling] == [[booking.pk]]
    assert booking.status == BookingStatus.NO_SHOW
    assert Booking.objects.get(pk=other["id"]).status == BookingStatus.AWAITING_PAYMENT
    settle_no_show(booking_id=booking.pk)
    settle_no_show(booking_id=booking.pk)  # again: nothing more happens
    assert wallet(customer.pk).balance == 5000 - 2000 + 1000  # half back
    assert escrow_held(booking.pk) == 0
    assert ledger.account(AccountKind.PLATFORM_REVENUE).balance == 200  # 20 % of the 1000 kept
    seen = api_for(customer).get("/api/bookings", {"view": "expired"})[1]
    assert [b["id"] for b in seen] == [booking.pk]


def test_nobody_at_the_door(customer, provider, onsite_service, tomorrow_local, merchant):
    merchant.commission_bp, merchant.provider_share_bp = 1000, 6000
    merchant.save()
    onsite_service.refund_rules = {"no_show_percent": 30}
    onsite_service.save()
    WorkingHours.objects.create(
        provider=provider, weekday=tomorrow_local.weekday(), start=dt.time(8), end=dt.time(20)
    )
    top_up(customer, 20_000)
    status, order = api_for(customer).post(
        "/api/provider-bookings",
        {
            "service_id": onsite_service.pk,
            "provider_id": provider.pk,
            "address": "5 Ruijin Road",
            "starts_at": dt.datetime.combine(tomorrow_local, dt.time(10), tzinfo=SH).isoformat(),
        },
    )
    assert status == 201, order
    api_for(customer).post(f"/api/bookings/{order['id']}/pay/wallet", {"no_coupon": True})
    p = api_for(provider.user)
    path = f"/api/provider/orders/{order['id']}"
    assert p.post(f"{path}/depart", HERE)[0] == 200
    assert p.post(f"{path}/arrive", HERE)[0] == 200
    status, problem = p.post(f"{path}/customer-absent", HERE)
    assert (status, problem["code"]) == (409, "wait_longer")  # the visit has not even started
    past = timezone.now() - dt.timedelta(minutes=20)
    Booking.objects.filter(pk=order["id"]).update(starts_at=past)
    BookingEvent.objects.filter(booking_id=order["id"], step="arrive").update(at=past)
    status, body = p.post(f"{path}/customer-absent", HERE)
    assert (status, body["status"]) == (200, "no_show"), body
    status, problem = api_for(customer).post(
        f"/api/provider/orders/{order['id']}/customer-absent", HERE
    )
    assert status == 404
    settle_no_show(booking_id=order["id"])
    assert wallet(customer.pk).balance == 20_000 - 12_000 + 8_400  # 70 % back
    frozen = ledger.account(AccountKind.PROVIDER_FROZEN, "provider", provider.pk)
    assert frozen.balance == (3600 - 360) * 60 // 100  # the provider came: a share of what is kept
    assert escrow_held(order["id"]) == 0
