"""A monthly package 包月 is sold as one: one address, one price (the sum of its dates), one
deadline, one payment for all its dates (none of them payable alone), cancelled as one with
each date refunded by the service's rules."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from tests.calls.conftest import top_up
from tests.conftest import api_for
from yuyue.billing.models import Payment, Refund
from yuyue.billing.payments import wallet
from yuyue.billing.tasks import refund_cancelled_order_job
from yuyue.orders.models import Booking, BookingStatus, Series
from yuyue.orders.payment import expire_due_unpaid
from yuyue.scheduling.models import ProviderReservation, WorkingHours

SH = ZoneInfo("Asia/Shanghai")
HOME = {"address": "8 Wulumuqi Road", "lat": 31.22, "lng": 121.45}


@pytest.fixture
def carer(provider, onsite_service):
    """¥120 a visit, free cancellation until 24 h before, then 50% kept."""
    onsite_service.refund_rules = {"free_hours": 24, "fee_percent": 50}
    onsite_service.save()
    for d in range(7):
        WorkingHours.objects.create(provider=provider, weekday=d, start=dt.time(8), end=dt.time(18))
    return provider


def package(customer, service, provider, start_day, weeks=2, weekdays=(0, 3)):
    body = {
        "service_id": service.pk,
        "provider_id": provider.pk,
        "rule": {
            "weekdays": list(weekdays),
            "start": "09:00",
            "date_from": start_day.isoformat(),
            "date_to": (start_day + dt.timedelta(days=7 * weeks - 1)).isoformat(),
        },
        **HOME,
    }
    return api_for(customer).post("/api/series", body)


def test_a_package_has_one_price_one_deadline_and_one_payment(
    customer, onsite_service, carer, tomorrow_local
):
    status, made = package(customer, onsite_service, carer, tomorrow_local)
    assert status == 201, made
    dates = made["occurrences"]
    assert len(dates) == 4 and made["price_fen"] == 4 * onsite_service.base_price_fen
    assert {d["status"] for d in dates} == {"awaiting_payment"}
    assert {d["pay_before"] for d in dates} == {made["pay_before"]}  # one deadline
    assert all(b.address == HOME["address"] for b in Booking.objects.all())
    me = api_for(customer)
    # a date alone cannot be paid: the package is paid as one
    status, problem = me.post(f"/api/bookings/{dates[0]['id']}/pay/wallet", {})
    assert (status, problem["code"]) == (409, "pay_whole_package")
    status, problem = me.post("/api/payments", {"booking_id": dates[0]["id"]})
    assert (status, problem["code"]) == (409, "pay_whole_package")
    # a wallet short of the whole package pays nothing at all
    top_up(customer, made["price_fen"] - 1)
    status, problem = me.post(f"/api/series/{made['id']}/pay/wallet", {})
    assert (status, problem["code"]) == (409, "insufficient_funds"), problem
    assert not Payment.objects.filter(booking__isnull=False).exists()
    assert wallet(customer.pk).available == made["price_fen"] - 1
    top_up(customer, 1)
    status, paid = me.post(f"/api/series/{made['id']}/pay/wallet", {})
    assert status == 200, paid
    assert paid["amount_fen"] == made["price_fen"] and len(paid["paid"]) == 4
    assert {p["status"] for p in paid["paid"]} == {"accepted"}
    assert wallet(customer.pk).available == 0
    status, again = me.post(f"/api/series/{made['id']}/pay/wallet", {})
    assert (status, again["code"]) == (409, "nothing_to_pay")
    # nobody else sees or pays it
    status, _ = api_for_other(made["id"])
    assert status == 404


def api_for_other(series_id):
    from tests.conftest import make_user

    return api_for(make_user("Stranger")).get(f"/api/series/{series_id}")


def test_an_unpaid_package_expires_whole(customer, onsite_service, carer, tomorrow_local):
    _, made = package(customer, onsite_service, carer, tomorrow_local)
    past = timezone.now() - dt.timedelta(seconds=1)  # the package's deadline went by
    assert Booking.objects.filter(series_id=made["id"]).update(pay_before=past) == 4
    assert expire_due_unpaid() == 4
    assert set(Booking.objects.values_list("status", flat=True)) == {BookingStatus.EXPIRED}
    assert not ProviderReservation.objects.filter(active=True).exists()  # the time is free


@pytest.mark.django_db(transaction=True)
def test_cancelling_a_package_refunds_each_date_by_the_rules(
    customer, onsite_service, carer, tomorrow_local
):
    _, made = package(customer, onsite_service, carer, tomorrow_local)
    top_up(customer, made["price_fen"])
    me = api_for(customer)
    assert me.post(f"/api/series/{made['id']}/pay/wallet", {})[0] == 200
    first = Booking.objects.filter(series_id=made["id"]).order_by("starts_at").first()
    # the first date is within 24 h of its start: half of it is kept; the others come back whole
    Booking.objects.filter(pk=first.pk).update(
        starts_at=timezone.now() + dt.timedelta(hours=3),
        ends_at=timezone.now() + dt.timedelta(hours=5),
    )
    status, cancelled = me.post(f"/api/series/{made['id']}/cancel", {"reason": "moving away"})
    assert status == 200, cancelled
    assert cancelled["active"] is False
    assert {d["status"] for d in cancelled["occurrences"]} == {"cancelled"}
    for b in Booking.objects.filter(series_id=made["id"]):
        refund_cancelled_order_job.call(b.pk)
    price = onsite_service.base_price_fen
    back = sorted(Refund.objects.values_list("amount_fen", flat=True))
    assert back == [price // 2, price, price, price]
    assert wallet(customer.pk).available == made["price_fen"] - price // 2
    assert not ProviderReservation.objects.filter(active=True).exists()
    status, problem = me.post(f"/api/series/{made['id']}/cancel", {})
    assert (status, problem["code"]) == (409, "already_cancelled")
    assert Series.objects.get(pk=made["id"]).active is False
