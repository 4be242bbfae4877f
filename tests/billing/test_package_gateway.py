"""A package 包月 paid through a gateway as one trade: one amount approved, every date paid and
booked when the gateway says so (each with its own share, so refunds stay per date and go back
against the package's trade), nothing twice on a repeated notice; a package that changed while
its customer was paying is not half-confirmed: the whole payment goes back."""

from __future__ import annotations

import json

import pytest

from tests.billing import test_gateways
from tests.billing.test_gateways import post_notify
from tests.conftest import api_for
from tests.orders import test_package_payment
from tests.orders.test_package_payment import package
from yuyue.billing import ledger
from yuyue.billing.models import AccountKind, Payment, Refund
from yuyue.billing.payments import refund_late_payment
from yuyue.billing.tasks import refund_cancelled_order_job
from yuyue.orders.models import Booking, BookingStatus

pytestmark = pytest.mark.django_db
wechat = test_gateways.wechat  # the WeChat Pay stand-in's fixture
carer = test_package_payment.carer  # a provider with a week of hours


@pytest.fixture
def made(customer, onsite_service, carer, tomorrow_local):
    customer.wx_openid = "o-package"
    customer.save()
    status, series = package(customer, onsite_service, carer, tomorrow_local)
    assert status == 201, series
    return series


def test_a_package_is_one_trade_and_each_date_is_paid_and_refunded_alone(
    wechat,
    customer,
    made,
    onsite_service,
):
    price = onsite_service.base_price_fen
    me = api_for(customer)
    status, paid = me.post("/api/payments", {"series_id": made["id"], "gateway": "wechat"})
    assert status == 201, paid
    assert paid["amount_fen"] == 4 * price  # one amount for the four dates
    trade = wechat.orders[paid["out_trade_no"]]
    assert trade["total"] == 4 * price and trade["openid"] == "o-package"
    assert {b.payment_status for b in Booking.objects.all()} == {"unpaid"}

    good = wechat.notification(paid["out_trade_no"])
    for _ in range(2):  # a repeated notice changes nothing
        status, content = post_notify("wechat", *good)
        assert (status, json.loads(content)["result"]) == (200, "paid")
    dates = list(Booking.objects.order_by("starts_at"))
    assert {(b.status, b.payment_status) for b in dates} == {("accepted", "paid")}
    package_payment = Payment.objects.get(out_trade_no=paid["out_trade_no"])
    shares = list(package_payment.shares.order_by("booking__starts_at"))
    assert [s.booking_id for s in shares] == [b.pk for b in dates]
    assert [s.amount_fen for s in shares] == [price] * 4
    escrow = ledger.account(AccountKind.ORDER_ESCROW)
    escrow.refresh_from_db()
    assert escrow.balance == 4 * price  # each date in escrow, as four single orders would be

    # the customer cancels the whole package (free, more than a day ahead): each date's share
    # is refunded on its own, all four against the one trade WeChat knows
    status, _ = me.post(f"/api/series/{made['id']}/cancel", {"reason": "moving"})
    assert status == 200
    for b in dates:
        refund_cancelled_order_job.call(b.pk)
    refunds = wechat.refund_calls
    assert len(refunds) == 4
    assert {r["out_trade_no"] for r in refunds} == {paid["out_trade_no"]}
    assert [r["amount"] for r in refunds] == [
        {"refund": price, "total": 4 * price, "currency": "CNY"}
    ] * 4
    assert Refund.objects.filter(payment__package=package_payment).count() == 4
    escrow.refresh_from_db()
    assert escrow.balance == 0


def test_a_package_that_changed_while_paying_is_not_half_booked(
    wechat,
    customer,
    made,
    onsite_service,
):
    price = onsite_service.base_price_fen
    me = api_for(customer)
    status, paid = me.post("/api/payments", {"series_id": made["id"], "gateway": "wechat"})
    assert status == 201, paid
    # one date is cancelled by staff meanwhile: the four dates no longer add up to the trade
    first = Booking.objects.order_by("starts_at").first()
    Booking.objects.filter(pk=first.pk).update(status=BookingStatus.CANCELLED)
    status, content = post_notify("wechat", *wechat.notification(paid["out_trade_no"]))
    assert (status, json.loads(content)["result"]) == (200, "late_refund")
    assert not Booking.objects.filter(payment_status="paid").exists()
    payment = Payment.objects.get(out_trade_no=paid["out_trade_no"])
    assert not payment.shares.exists()
    assert refund_late_payment(payment_id=payment.pk) is True
    assert wechat.refund_calls[-1]["amount"] == {
        "refund": 4 * price,
        "total": 4 * price,
        "currency": "CNY",
    }
    escrow = ledger.account(AccountKind.ORDER_ESCROW)
    escrow.refresh_from_db()
    assert escrow.balance == 0


def test_a_package_is_refused_by_a_gateway_that_is_not_set_up_and_by_another_customer(
    customer, other_customer, made, settings
):
    settings.YUYUE_WECHATPAY = {}
    status, problem = api_for(customer).post(
        "/api/payments", {"series_id": made["id"], "gateway": "wechat"}
    )
    assert (status, problem["code"]) == (409, "gateway_not_configured")
    status, problem = api_for(other_customer).post(
        "/api/payments", {"series_id": made["id"], "gateway": "sandbox"}
    )
    assert (status, problem["code"]) == (404, "not_found")
    assert not Payment.objects.exists()
