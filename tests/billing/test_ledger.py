"""The ledger: balanced transfers, holds, idempotency, never below zero — by example and by
property over any sequence of operations."""

from __future__ import annotations

import uuid

import pytest
from django.db import connection, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yuyue.billing import ledger
from yuyue.billing.models import AccountKind, Entry, Hold, HoldStatus, LedgerAccount, Transfer
from yuyue.core.errors import DomainError


def acc(kind, owner=None):
    return ledger.account(kind, "user" if owner is not None else "", owner)


def top_up(customer_id, amount, key):
    with transaction.atomic():
        return ledger.post_transfer(
            key=key,
            kind="top_up",
            legs=[
                (acc(AccountKind.GATEWAY_CLEARING), -amount),
                (acc(AccountKind.CUSTOMER_CASH, customer_id), amount),
            ],
        )


@pytest.mark.django_db
def test_transfer_moves_money_and_is_idempotent():
    transfer, created = top_up(1, 5000, "pay:1")
    assert created
    again, created = top_up(1, 5000, "pay:1")
    assert (again.pk, created) == (transfer.pk, False)
    assert acc(AccountKind.CUSTOMER_CASH, 1).balance == 5000
    assert Transfer.objects.count() == 1 and Entry.objects.count() == 2
    with pytest.raises(DomainError) as exc:
        top_up(1, 6000, "pay:1")  # same key, other amount
    assert exc.value.code == "idempotency_key_reused"


@pytest.mark.django_db
def test_never_below_zero():
    top_up(1, 1000, "t1")
    with pytest.raises(DomainError) as exc, transaction.atomic():
        ledger.post_transfer(
            key="spend",
            kind="payment",
            legs=[
                (acc(AccountKind.CUSTOMER_CASH, 1), -1001),
                (acc(AccountKind.PLATFORM_REVENUE), 1001),
            ],
        )
    assert exc.value.code == "insufficient_funds"
    assert acc(AccountKind.CUSTOMER_CASH, 1).balance == 1000
    assert not Transfer.objects.filter(key="spend").exists()


@pytest.mark.django_db
def test_hold_posted_for_less_releases_the_rest():
    top_up(1, 1000, "t1")
    cash = acc(AccountKind.CUSTOMER_CASH, 1)
    with transaction.atomic():
        hold = ledger.create_hold(key="call:1", account=cash, amount=600)
    cash.refresh_from_db()
    assert (cash.balance, cash.held, cash.available) == (1000, 600, 400)
    with pytest.raises(DomainError), transaction.atomic():
        ledger.create_hold(key="call:2", account=cash, amount=401)
    with transaction.atomic():
        ledger.post_hold(
            hold=hold, amount=250, kind="call", to=[(acc(AccountKind.PLATFORM_REVENUE), 250)]
        )
        assert (
            ledger.post_hold(
                hold=hold, amount=250, kind="call", to=[(acc(AccountKind.PLATFORM_REVENUE), 250)]
            )
            is not None
        )
    cash.refresh_from_db()
    assert (cash.balance, cash.held) == (750, 0)
    hold.refresh_from_db()
    assert (hold.status, hold.posted_amount) == (HoldStatus.POSTED, 250)
    assert acc(AccountKind.PLATFORM_REVENUE).balance == 250


@pytest.mark.django_db
def test_bad_amounts():
    cash = acc(AccountKind.CUSTOMER_CASH, 1)
    for amount in (0, -5, 10**13, 1.5, True):
        with pytest.raises(DomainError) as exc, transaction.atomic():
            ledger.create_hold(key=f"h{amount}", account=cash, amount=amount)
        assert exc.value.code == "invalid_amount"
    assert not Hold.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_an_unbalanced_transfer_is_refused_or_found():
    """A bug that writes entries around the service: PostgreSQL refuses it at commit; on SQLite
    (no deferred triggers) the reconciliation check finds it."""
    from django.db import IntegrityError

    a, b = acc(AccountKind.GATEWAY_CLEARING), acc(AccountKind.PLATFORM_REVENUE)

    def write_bad():
        with transaction.atomic():
            t = Transfer.objects.create(key="bad", kind="bug")
            Entry.objects.create(transfer=t, account=a, amount=-10)
            Entry.objects.create(transfer=t, account=b, amount=9)

    if connection.vendor == "postgresql":
        with pytest.raises(IntegrityError):
            write_bad()
        assert not Transfer.objects.filter(key="bad").exists()
    else:
        write_bad()
        assert ledger.unbalanced_transfers() == [Transfer.objects.get(key="bad").pk]


ops = st.lists(
    st.tuples(
        st.sampled_from(["top_up", "pay", "refund", "hold", "post", "void", "withdraw"]),
        st.integers(0, 2),
        st.integers(1, 5000),
    ),
    max_size=30,
)


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=ops)
def test_any_sequence_keeps_the_books(steps):
    holds: list[Hold] = []
    n = uuid.uuid4().hex  # examples share the test's database: keys must not repeat
    for i, (op, who, amount) in enumerate(steps):
        key = f"{n}:{i}"
        cash = acc(AccountKind.CUSTOMER_CASH, who)
        try:
            with transaction.atomic():
                if op == "top_up":
                    top_up(who, amount, key)
                elif op == "pay":
                    ledger.post_transfer(
                        key=key,
                        kind="payment",
                        legs=[
                            (cash, -amount),
                            (acc(AccountKind.PLATFORM_REVENUE), amount // 5),
                            (acc(AccountKind.PROVIDER_FROZEN, 99), amount - amount // 5),
                        ],
                    )
                elif op == "refund":
                    ledger.post_transfer(
                        key=key,
                        kind="refund",
                        legs=[(acc(AccountKind.PLATFORM_REVENUE), -amount), (cash, amount)],
                    )
                elif op == "hold":
                    holds.append(ledger.create_hold(key=key, account=cash, amount=amount))
                elif op == "post" and holds:
                    hold = holds[who % len(holds)]
                    part = min(amount, hold.amount)
                    ledger.post_hold(
                        hold=hold,
                        amount=part,
                        kind="call",
                        to=[(acc(AccountKind.PLATFORM_REVENUE), part)],
                    )
                elif op == "void" and holds:
                    ledger.void_hold(hold=holds[who % len(holds)])
                elif op == "withdraw":
                    avail = acc(AccountKind.PROVIDER_FROZEN, 99)
                    hold = ledger.create_hold(key=key, account=avail, amount=amount)
                    ledger.post_hold(
                        hold=hold,
                        amount=amount,
                        kind="payout",
                        to=[(acc(AccountKind.PAYOUT_CLEARING), amount)],
                    )
        except DomainError as exc:
            assert exc.code == "insufficient_funds"
        assert ledger.unbalanced_transfers() == []
        accounts = list(LedgerAccount.objects.all())
        assert sum(a.balance for a in accounts) == 0
        for a in accounts:
            assert a.balance == ledger.balance_from_entries(a)
            pending = sum(h.amount for h in Hold.objects.filter(account=a, status="pending"))
            assert a.held == pending
            if not a.allow_negative:
                assert a.balance >= a.held >= 0
