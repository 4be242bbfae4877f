"""Money races on real servers: one wallet paying many orders at once, one notification
delivered many times at once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import transaction
from django.utils import timezone

from tests.livesrv import Call, bearer, storm
from yuyue.accounts.tokens import issue_token
from yuyue.billing import ledger
from yuyue.billing.gateways.sandbox import SIGNATURE_HEADER, SandboxGateway, sign
from yuyue.billing.models import AccountKind, Payment, PaymentPurpose, Transfer
from yuyue.billing.payments import wallet
from yuyue.orders.models import Booking, BookingStatus
from yuyue.orders.services import book_slot
from yuyue.scheduling.models import TimeSlot

from .conftest import assert_clean, outcome

PRICE = 1000


def _orders(customer, hall_service, hall, n):
    hall_service.base_price_fen = PRICE
    hall_service.save()
    start = timezone.now() + dt.timedelta(days=2)
    out = []
    for i in range(n):
        slot = TimeSlot.objects.create(
            service=hall_service,
            hall=hall,
            starts_at=start + dt.timedelta(hours=i),
            ends_at=start + dt.timedelta(hours=i, minutes=30),
            capacity=5,
        )
        out.append(book_slot(actor=customer, slot_id=slot.pk, places=1, participants=None))
    return out


@pytest.mark.django_db(transaction=True)
def test_twenty_payments_from_a_wallet_that_holds_five(server, customer, hall_service, hall):
    orders = _orders(customer, hall_service, hall, 20)
    with transaction.atomic():
        ledger.post_transfer(
            key="seed",
            kind="top_up",
            legs=[
                (ledger.account(AccountKind.GATEWAY_CLEARING), -5 * PRICE),
                (wallet(customer.pk), 5 * PRICE),
            ],
        )
    key = issue_token(user=customer, via="password")[0]
    replies = storm(
        server.url,
        [Call("POST", f"/api/bookings/{o.pk}/pay/wallet", None, bearer(key)) for o in orders],
    )
    assert_clean(replies, server)
    paid = [r for r in replies if r.status == 200]
    short = [r for r in replies if r.status == 409 and r.code == "insufficient_funds"]
    assert (len(paid), len(short)) == (5, 15), outcome(replies)
    assert wallet(customer.pk).balance == 0
    assert Booking.objects.filter(status=BookingStatus.BOOKED).count() == 5
    assert ledger.unbalanced_transfers() == []


@pytest.mark.django_db(transaction=True)
def test_one_notification_ten_times_at_once(server, customer):
    payment = Payment.objects.create(
        out_trade_no="yyrace",
        purpose=PaymentPurpose.TOP_UP,
        customer=customer,
        gateway="sandbox",
        amount_fen=8800,
    )
    body = SandboxGateway().notification_body(payment)
    headers = {SIGNATURE_HEADER: sign(body), "Content-Type": "application/json"}
    replies = storm(
        server.url,
        [
            Call("POST", "/api/payments/notify/sandbox", None, headers, content=body)
            for _ in range(10)
        ],
    )
    assert_clean(replies, server)
    assert all(r.status == 200 for r in replies), outcome(replies)
    assert wallet(customer.pk).balance == 8800
    assert Transfer.objects.filter(kind="top_up").count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_full_refunds_at_once_pay_back_once(server, customer, hall_service, hall, operator):
    [order] = _orders(customer, hall_service, hall, 1)
    with transaction.atomic():
        ledger.post_transfer(
            key="seed",
            kind="top_up",
            legs=[
                (ledger.account(AccountKind.GATEWAY_CLEARING), -PRICE),
                (wallet(customer.pk), PRICE),
            ],
        )
    from yuyue.billing.payments import pay_with_wallet

    pay_with_wallet(actor=customer, booking_id=order.pk)
    keys = [issue_token(user=operator, via="password")[0] for _ in range(2)]
    calls = [
        Call(
            "POST",
            f"/api/ops/bookings/{order.pk}/refunds",
            {"amount_fen": PRICE},
            bearer(k, **{"Idempotency-Key": f"op-{i}"}),
        )
        for i, k in enumerate(keys)
    ]
    replies = storm(server.url, calls)
    assert_clean(replies, server)
    assert sorted(r.status for r in replies) == [201, 409], outcome(replies)
    assert wallet(customer.pk).balance == PRICE
    assert Payment.objects.get(booking=order).refunded_fen == PRICE
    assert ledger.unbalanced_transfers() == []


@pytest.mark.django_db(transaction=True)
def test_fifty_customers_claim_a_coupon_of_ten(server):
    from tests.conftest import make_user
    from yuyue.billing.models import Coupon, CouponClaim

    now = timezone.now()
    c = Coupon.objects.create(
        name="first ten",
        kind="fixed",
        value_fen=500,
        total_limit=10,
        valid_from=now - dt.timedelta(hours=1),
        valid_until=now + dt.timedelta(days=1),
    )
    keys = [issue_token(user=make_user(f"c{i}"), via="password")[0] for i in range(50)]
    replies = storm(
        server.url, [Call("POST", f"/api/coupons/{c.pk}/claim", None, bearer(k)) for k in keys]
    )
    assert_clean(replies, server)
    won = sum(r.status == 201 for r in replies)
    sold_out = sum(r.status == 409 and r.code == "coupon_sold_out" for r in replies)
    assert (won, sold_out) == (10, 40), outcome(replies)
    c.refresh_from_db()
    assert c.claimed == 10 and CouponClaim.objects.filter(coupon=c).count() == 10


@pytest.mark.django_db(transaction=True)
def test_ten_payments_redeeming_points_that_cover_five(server, customer, hall_service, hall):
    """1,000 points, ten payments at once each redeeming 200: five get the discount, five are
    told there are not enough points; the points are spent once and never go below zero."""
    from yuyue.billing import loyalty
    from yuyue.billing.models import PointsEntry, PointsKind

    orders = _orders(customer, hall_service, hall, 10)
    with transaction.atomic():
        ledger.post_transfer(
            key="seed",
            kind="top_up",
            legs=[
                (ledger.account(AccountKind.GATEWAY_CLEARING), -10 * PRICE),
                (wallet(customer.pk), 10 * PRICE),
            ],
        )
    loyalty._grant(customer.pk, 1000, "gift", PointsKind.EARN)
    key = issue_token(user=customer, via="password")[0]
    replies = storm(
        server.url,
        [
            Call("POST", f"/api/bookings/{o.pk}/pay/wallet", {"points": 200}, bearer(key))
            for o in orders
        ],
    )
    print(outcome(replies))
    assert_clean(replies, server)
    ok = [r for r in replies if r.status == 200]
    short = [r for r in replies if r.status == 409 and r.code == "insufficient_points"]
    assert (len(ok), len(short)) == (5, 5), outcome(replies)
    redeemed = PointsEntry.objects.filter(customer=customer, kind=PointsKind.REDEEM)
    assert sorted(e.delta for e in redeemed) == [-200] * 5
    gift = PointsEntry.objects.get(key="gift")
    assert gift.remaining == 0
    assert Payment.objects.filter(customer=customer, amount_fen=PRICE - 200).count() == 5


@pytest.mark.django_db(transaction=True)
def test_top_up_refunds_racing_wallet_payments_for_the_same_cash(
    server, customer, hall_service, hall, operator
):
    """Five top-ups of ¥10 (¥50 in the wallet), five ¥10 orders. At once: each top-up refunded
    twice (other keys) and every order paid from the wallet. The cash goes once: five of the
    fifteen succeed, no top-up is refunded twice, the wallet ends at zero, and the gateway paid
    back exactly what the refunds that succeeded took."""
    from yuyue.billing.models import Refund, SandboxTransaction, TopUpPlan

    orders = _orders(customer, hall_service, hall, 5)
    plan = TopUpPlan.objects.create(name="10+1", pay_fen=PRICE, bonus_fen=100)
    top_ups = []
    for i in range(5):
        payment = Payment.objects.create(
            out_trade_no=f"yyseed{i}",
            purpose=PaymentPurpose.TOP_UP,
            customer=customer,
            gateway="sandbox",
            amount_fen=PRICE,
            status="paid",
            plan=plan if i % 2 else None,
        )
        top_ups.append(payment)
        with transaction.atomic():
            ledger.post_transfer(
                key=f"payment:{payment.pk}",
                kind="top_up",
                legs=[
                    (ledger.account(AccountKind.GATEWAY_CLEARING), -PRICE),
                    (wallet(customer.pk), PRICE),
                ],
            )
            from yuyue.billing.topups import credit_bonus

            credit_bonus(payment)
    customer_key = issue_token(user=customer, via="password")[0]
    operator_key = issue_token(user=operator, via="password")[0]
    calls = [
        Call(
            "POST",
            f"/api/ops/payments/{p.pk}/refunds",
            {"amount_fen": PRICE},
            bearer(operator_key, **{"Idempotency-Key": f"r{p.pk}-{n}"}),
        )
        for p in top_ups
        for n in range(2)
    ] + [
        Call("POST", f"/api/bookings/{o.pk}/pay/wallet", None, bearer(customer_key)) for o in orders
    ]
    replies = storm(server.url, calls)
    print(outcome(replies))
    assert_clean(replies, server)
    refunded = [r for r in replies[:10] if r.status == 201]
    paid = [r for r in replies[10:] if r.status == 200]
    refused = {(r.status, r.code) for r in replies if r.status not in (200, 201)}
    assert refused <= {(409, "insufficient_funds"), (409, "refund_exceeds_payment")}, outcome(
        replies
    )
    assert len(refunded) + len(paid) == 5, outcome(replies)
    assert wallet(customer.pk).balance == 0
    for p in top_ups:
        p.refresh_from_db()
        assert p.refunded_fen in (0, PRICE)
    assert Refund.objects.count() == len(refunded)
    assert (
        sum(SandboxTransaction.objects.filter(kind="refund").values_list("amount_fen", flat=True))
        == len(refunded) * PRICE
    )
    assert Booking.objects.filter(status=BookingStatus.BOOKED).count() == len(paid)
    assert ledger.unbalanced_transfers() == []


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("guarded", [True, False], ids=["guarded", "control"])
def test_one_top_up_refunded_ten_times_at_once(request, customer, operator, guarded):
    """Ten operators refund the same ¥10 top-up at once (other keys), with plenty of cash in the
    wallet: it is paid back once. The control (read, wait, write) pays it back more than once."""
    from yuyue.billing.models import Refund

    server = request.getfixturevalue("server" if guarded else "unguarded_server")
    payment = Payment.objects.create(
        out_trade_no="yyonce",
        purpose=PaymentPurpose.TOP_UP,
        customer=customer,
        gateway="sandbox",
        amount_fen=PRICE,
        status="paid",
    )
    with transaction.atomic():
        ledger.post_transfer(
            key="seed",
            kind="top_up",
            legs=[
                (ledger.account(AccountKind.GATEWAY_CLEARING), -10 * PRICE),
                (wallet(customer.pk), 10 * PRICE),
            ],
        )
    keys = [issue_token(user=operator, via="password")[0] for _ in range(10)]
    replies = storm(
        server.url,
        [
            Call(
                "POST",
                f"/api/ops/payments/{payment.pk}/refunds",
                {"amount_fen": PRICE},
                bearer(k, **{"Idempotency-Key": f"op-{i}"}),
            )
            for i, k in enumerate(keys)
        ],
    )
    assert_clean(replies, server)
    won = sum(r.status == 201 for r in replies)
    if guarded:
        assert won == 1, outcome(replies)
        assert {(r.status, r.code) for r in replies if r.status != 201} == {
            (409, "refund_exceeds_payment")
        }
        assert Refund.objects.count() == 1 and wallet(customer.pk).balance == 9 * PRICE
    else:
        assert won > 1, outcome(replies)  # the race the guard prevents: paid back twice or more
        assert wallet(customer.pk).balance < 9 * PRICE


@pytest.mark.django_db(transaction=True)
def test_one_order_paid_from_the_wallet_ten_times_at_once(server, customer, hall_service, hall):
    """No Idempotency-Key: one payment goes through; every other gets `nothing_to_pay`, the same
    answer on SQLite and PostgreSQL."""
    [order] = _orders(customer, hall_service, hall, 1)
    with transaction.atomic():
        ledger.post_transfer(
            key="seed-one",
            kind="top_up",
            legs=[
                (ledger.account(AccountKind.GATEWAY_CLEARING), -10 * PRICE),
                (wallet(customer.pk), 10 * PRICE),
            ],
        )
    key = issue_token(user=customer, via="password")[0]
    replies = storm(
        server.url, [Call("POST", f"/api/bookings/{order.pk}/pay/wallet", None, bearer(key))] * 10
    )
    print(outcome(replies))
    assert_clean(replies, server)
    assert (
        sorted((r.status, r.code) for r in replies) == [(200, None)] + [(409, "nothing_to_pay")] * 9
    ), outcome(replies)
    assert wallet(customer.pk).balance == 9 * PRICE
    assert Payment.objects.filter(booking=order).count() == 1
