"""Paying orders: wallet, the sandbox gateway end to end over HTTP, and notifications that
arrive twice, late, forged or wrong."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from tests.billing.conftest import fund
from tests.conftest import api_for
from yuyue.billing import ledger
from yuyue.billing.gateways.sandbox import SIGNATURE_HEADER, SandboxGateway, sign
from yuyue.billing.models import AccountKind, GatewayNotification, Payment, Transfer
from yuyue.billing.payments import wallet
from yuyue.orders.models import Booking, BookingStatus
from yuyue.scheduling.models import TimeSlot


def top_up(user, amount):
    fund(wallet(user.pk), amount, key=f"test-topup:{user.pk}:{amount}")


@pytest.fixture
def priced_slot(hall_service, hall):
    hall_service.base_price_fen = 2000
    hall_service.save()
    start = timezone.now() + dt.timedelta(days=1)
    return TimeSlot.objects.create(
        service=hall_service,
        hall=hall,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        capacity=50,
    )


def book(user, slot):
    status, body = api_for(user).post("/api/bookings", {"slot_id": slot.pk})
    assert status == 201 and body["status"] == "awaiting_payment", body
    return body


def notify(body: bytes, signature: str | None = None):
    response = Client().post(
        "/api/payments/notify/sandbox",
        body,
        content_type="application/json",
        headers={SIGNATURE_HEADER: signature or sign(body)},
    )
    return response.status_code, json.loads(response.content)


def test_pay_from_the_wallet(customer, priced_slot):
    top_up(customer, 3000)
    order = book(customer, priced_slot)
    status, body = api_for(customer).post(f"/api/bookings/{order['id']}/pay/wallet")
    assert status == 200 and (body["status"], body["payment_status"]) == ("booked", "paid")
    assert api_for(customer).get("/api/wallet")[1]["balance_fen"] == 1000
    assert ledger.account(AccountKind.ORDER_ESCROW).balance == 2000


def test_short_wallet_changes_nothing(customer, priced_slot):
    top_up(customer, 1999)
    order = book(customer, priced_slot)
    status, body = api_for(customer).post(f"/api/bookings/{order['id']}/pay/wallet")
    assert (status, body["code"]) == (409, "insufficient_funds")
    assert Booking.objects.get(pk=order["id"]).status == BookingStatus.AWAITING_PAYMENT
    assert wallet(customer.pk).balance == 1999 and not Payment.objects.exists()


def test_notification_twice_credits_once_and_forgeries_change_nothing(customer, priced_slot):
    order = book(customer, priced_slot)
    status, created = api_for(customer).post("/api/payments", {"booking_id": order["id"]})
    assert status == 201 and created["params"]["checkout_url"].endswith(created["out_trade_no"])
    payment = Payment.objects.get(out_trade_no=created["out_trade_no"])
    body = SandboxGateway().notification_body(payment)
    assert notify(body)[1]["result"] == "paid"
    assert notify(body)[1]["result"] == "paid"  # the same notification again: same answer
    assert Transfer.objects.filter(kind="order_payment").count() == 1
    assert Booking.objects.get(pk=order["id"]).status == BookingStatus.BOOKED
    forged = body.replace(b'"amount": 2000', b'"amount": 1')
    status, problem = notify(forged, signature=sign(body))
    assert (status, problem["code"]) == (400, "bad_signature")
    other = json.loads(SandboxGateway().notification_body(payment))
    other["amount"] = 1999
    status, problem = notify(json.dumps(other).encode())
    assert (status, problem["code"]) == (400, "amount_mismatch")
    other.update(amount=2000, out_trade_no="yy-nope")
    status, problem = notify(json.dumps(other).encode())
    assert (status, problem["code"]) == (404, "unknown_payment")
    assert GatewayNotification.objects.count() == 1
    assert ledger.unbalanced_transfers() == []


def test_declined_payment_leaves_the_order_unpaid(customer, hall_service, priced_slot):
    hall_service.base_price_fen = 2013  # the sandbox declines amounts ending in 13 fen
    hall_service.save()
    order = book(customer, priced_slot)
    _, created = api_for(customer).post("/api/payments", {"booking_id": order["id"]})
    payment = Payment.objects.get(out_trade_no=created["out_trade_no"])
    assert notify(SandboxGateway().notification_body(payment))[1]["result"] == "declined"
    assert Booking.objects.get(pk=order["id"]).status == BookingStatus.AWAITING_PAYMENT
    assert not Transfer.objects.filter(kind="order_payment").exists()


@pytest.mark.django_db(transaction=True)
def test_late_payment_revives_the_order_while_its_place_is_free(customer, priced_slot):
    order = book(customer, priced_slot)
    _, created = api_for(customer).post("/api/payments", {"booking_id": order["id"]})
    Booking.objects.filter(pk=order["id"]).update(pay_before=timezone.now())
    from yuyue.orders.services import expire_unpaid

    assert expire_unpaid(booking_id=order["id"])
    priced_slot.refresh_from_db()
    assert priced_slot.booked == 0
    payment = Payment.objects.get(out_trade_no=created["out_trade_no"])
    assert notify(SandboxGateway().notification_body(payment))[1]["result"] == "paid_late"
    booking = Booking.objects.get(pk=order["id"])
    assert (booking.status, booking.payment_status) == ("booked", "paid")
    priced_slot.refresh_from_db()
    assert priced_slot.booked == 1  # the place was taken again
    assert ledger.account(AccountKind.ORDER_ESCROW).balance == 2000


@pytest.mark.django_db(transaction=True)
def test_late_payment_is_refunded_when_the_place_is_gone(customer, priced_slot):
    order = book(customer, priced_slot)
    _, created = api_for(customer).post("/api/payments", {"booking_id": order["id"]})
    Booking.objects.filter(pk=order["id"]).update(pay_before=timezone.now())
    from yuyue.orders.services import expire_unpaid

    assert expire_unpaid(booking_id=order["id"])
    TimeSlot.objects.filter(pk=priced_slot.pk).update(capacity=0)  # meanwhile sold out
    payment = Payment.objects.get(out_trade_no=created["out_trade_no"])
    assert notify(SandboxGateway().notification_body(payment))[1]["result"] == "late_refund"
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    payment.refresh_from_db()
    assert payment.refunded_fen == 2000
    assert ledger.account(AccountKind.ORDER_ESCROW).balance == 0
    assert ledger.account(AccountKind.GATEWAY_CLEARING).balance == 0


@pytest.mark.django_db(transaction=True)
def test_sandbox_end_to_end_over_http(live_server, settings, customer, priced_slot):
    """Quote-less slice of the flow: order → pay → the sandbox calls our notify URL → paid;
    and a wallet top-up the same way."""
    settings.YUYUE_PUBLIC_BASE_URL = live_server.url
    order = book(customer, priced_slot)
    api = api_for(customer)
    _, created = api.post("/api/payments", {"booking_id": order["id"]})
    assert api.post(created["params"]["checkout_url"], {})[0] == 202
    _, topup = api.post("/api/payments", {"top_up_fen": 50000})
    api.post(topup["params"]["checkout_url"], {})
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    assert Booking.objects.get(pk=order["id"]).status == BookingStatus.BOOKED
    assert api.get("/api/wallet")[1]["balance_fen"] == 50000


def test_bad_payment_requests(customer, other_customer, priced_slot):
    order = book(customer, priced_slot)
    api = api_for(customer)
    for body, code in [
        ({}, "invalid_input"),
        ({"top_up_fen": -5}, "invalid_amount"),
        ({"top_up_fen": 10**10}, "invalid_amount"),
        ({"top_up_fen": 1.5}, "invalid_input"),
        ({"booking_id": order["id"], "gateway": "paypal"}, "invalid_input"),
    ]:
        status, problem = api.post("/api/payments", body)
        assert problem["code"] == code, (body, problem)
    status, problem = api_for(other_customer).post("/api/payments", {"booking_id": order["id"]})
    assert (status, problem["code"]) == (404, "not_found")
    assert not Payment.objects.exists()
