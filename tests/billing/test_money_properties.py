"""Any sequence of real money operations — top-ups with and without bonus, wallet payments with
points spending cash and bonus, refunds of orders and of top-ups, settlements, withdrawals — keeps
the books: every transfer balanced, the accounts summing to zero, balances equal to their entries,
nothing below zero, escrow per order never negative, points consistent, and a bonus never turning
into cash (an order's refund gives back to cash at most what it took from cash; no transfer
credits cash from bonus or promotion)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import make_user
from yuyue.accounts.models import Provider
from yuyue.billing import ledger, loyalty
from yuyue.billing.models import (
    AccountKind,
    Entry,
    LedgerAccount,
    Payment,
    PaymentPurpose,
    PaymentStatus,
    PointsEntry,
    TopUpPlan,
    Transfer,
)
from yuyue.billing.payments import pay_with_wallet, wallet
from yuyue.billing.refunds import escrow_held, refund
from yuyue.billing.settlement import release_earnings, request_withdrawal, settle_order
from yuyue.billing.topups import refund_top_up
from yuyue.core.errors import DomainError
from yuyue.orders.models import Booking, BookingStatus
from yuyue.orders.services import book_slot
from yuyue.scheduling.models import TimeSlot

ops = st.lists(
    st.tuples(
        st.sampled_from(
            [
                "top_up",
                "plan",
                "book_pay",
                "refund",
                "refund_top_up",
                "settle",
                "withdraw",
                "expire_points",
            ]
        ),
        st.integers(0, 3),
        st.integers(1, 3000),
    ),
    max_size=25,
)

EXPECTED = {
    "insufficient_funds",
    "insufficient_points",
    "refund_exceeds_payment",
    "order_settled",
    "withdrawal_too_small",
    "nothing_to_refund",
    "per_user_limit",
}


@pytest.mark.django_db
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=ops)
def test_any_sequence_of_money_operations_keeps_the_books(steps, hall_service, hall, merchant):
    merchant.commission_bp, merchant.provider_share_bp = 1500, 5000
    merchant.save()
    hall_service.base_price_fen = 1200
    hall_service.per_user_limit = 50
    hall_service.save()
    start = timezone.now() + dt.timedelta(days=1)
    slot = TimeSlot.objects.create(
        service=hall_service, hall=hall, starts_at=start, ends_at=start + dt.timedelta(hours=1)
    )
    customer = make_user("Prop customer")
    provider = Provider.objects.create(
        user=make_user("Prop provider"), merchant=merchant, display_name="P", verified=True
    )
    plan = TopUpPlan.objects.create(name="p", pay_fen=1000, bonus_fen=200)
    operator = make_user("Prop operator", is_operator=True)
    n = uuid.uuid4().hex
    orders: list[Booking] = []
    top_ups: list[Payment] = []
    for i, (op, pick, amount) in enumerate(steps):
        key = f"{n}:{i}"
        try:
            if op == "top_up":
                payment = Payment.objects.create(
                    out_trade_no=f"t{key}"[:40],
                    purpose=PaymentPurpose.TOP_UP,
                    customer=customer,
                    gateway="sandbox",
                    amount_fen=amount,
                    status=PaymentStatus.PAID,
                )
                top_ups.append(payment)
                with transaction.atomic():
                    ledger.post_transfer(
                        key=f"payment:{payment.pk}",
                        kind="top_up",
                        legs=[
                            (ledger.account(AccountKind.GATEWAY_CLEARING), -amount),
                            (wallet(customer.pk), amount),
                        ],
                    )
            elif op == "plan":
                payment = Payment.objects.create(
                    out_trade_no=f"p{key}"[:40],
                    purpose=PaymentPurpose.TOP_UP,
                    customer=customer,
                    gateway="sandbox",
                    amount_fen=plan.pay_fen,
                    status=PaymentStatus.PAID,
                    plan=plan,
                )
                top_ups.append(payment)
                with transaction.atomic():
                    ledger.post_transfer(
                        key=f"payment:{payment.pk}",
                        kind="top_up",
                        legs=[
                            (ledger.account(AccountKind.GATEWAY_CLEARING), -plan.pay_fen),
                            (wallet(customer.pk), plan.pay_fen),
                        ],
                    )
                    loyalty.credit_bonus(payment)
            elif op == "book_pay":
                booking = book_slot(actor=customer, slot_id=slot.pk, places=1, participants=None)
                orders.append(booking)
                points = min(loyalty.points_balance(customer.pk), amount % 700)
                pay_with_wallet(actor=customer, booking_id=booking.pk, points=points)
            elif op == "refund" and orders:
                booking = orders[pick % len(orders)]
                refund(actor=None, booking_id=booking.pk, amount_fen=amount % 1300 + 1, key=key)
            elif op == "refund_top_up" and top_ups:
                payment = top_ups[pick % len(top_ups)]
                refund_top_up(
                    actor=operator, payment_id=payment.pk, amount_fen=amount % 1200 + 1, key=key
                )
            elif op == "settle" and orders:
                booking = orders[pick % len(orders)]
                Booking.objects.filter(pk=booking.pk, status=BookingStatus.BOOKED).update(
                    status=BookingStatus.CHECKED_IN, provider=provider
                )
                settle_order(booking_id=booking.pk)
                release_earnings(booking_id=booking.pk)
            elif op == "withdraw":
                request_withdrawal(actor=provider.user, amount_fen=amount + 999)
            elif op == "expire_points":
                PointsEntry.objects.filter(customer=customer, remaining__gt=0).filter(
                    pk__in=PointsEntry.objects.filter(customer=customer)
                    .order_by("id")
                    .values("pk")[:1]
                ).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
                loyalty.expire_points()
        except DomainError as exc:
            assert exc.code in EXPECTED, exc.code

        assert ledger.unbalanced_transfers() == []
        accounts = list(LedgerAccount.objects.all())
        assert sum(a.balance for a in accounts) == 0
        for a in accounts:
            assert a.balance == ledger.balance_from_entries(a)
            if not a.allow_negative:
                assert a.balance >= a.held >= 0, a.code
        cash, bonus = wallet(customer.pk), loyalty.bonus_account(customer.pk)
        for booking in orders:
            assert escrow_held(booking.pk) >= 0
            paid = Payment.objects.filter(booking=booking, status=PaymentStatus.PAID).first()
            if paid is None:
                continue
            back = dict(
                Entry.objects.filter(transfer__booking=booking, transfer__kind="refund")
                .values_list("account")
                .annotate(n=Sum("amount"))
                .values_list("account", "n")
            )
            assert back.get(cash.pk, 0) <= paid.amount_fen - paid.bonus_fen
            assert back.get(bonus.pk, 0) <= paid.bonus_fen
        for transfer in Transfer.objects.filter(entries__account=cash, entries__amount__gt=0):
            legs = dict(transfer.entries.values_list("account__kind", "amount"))
            assert legs.get(AccountKind.CUSTOMER_BONUS, 0) >= 0, transfer.kind
            assert legs.get(AccountKind.PROMOTION_EXPENSE, 0) >= 0, transfer.kind
        # what the gateway paid back for top-ups never exceeds the cash they brought in
        refunds = Transfer.objects.filter(kind="top_up_refund", entries__account=cash)
        moved = dict(
            Entry.objects.filter(transfer__in=refunds)
            .values_list("account__kind")
            .annotate(n=Sum("amount"))
            .values_list("account__kind", "n")
        )
        given = sum(p.amount_fen for p in top_ups)
        bonus_given = sum(p.plan.bonus_fen for p in top_ups if p.plan_id)
        out = -moved.get(AccountKind.CUSTOMER_CASH, 0)
        gateway_back = moved.get(AccountKind.GATEWAY_CLEARING, 0)
        assert gateway_back <= given and out <= given + bonus_given
        refunded = Payment.objects.filter(pk__in=[p.pk for p in top_ups]).aggregate(
            n=Sum("refunded_fen")
        )["n"]
        assert gateway_back == (refunded or 0)
        entries = PointsEntry.objects.filter(customer=customer).aggregate(
            d=Sum("delta"), r=Sum("remaining")
        )
        assert (entries["d"] or 0) == (entries["r"] or 0) >= 0
