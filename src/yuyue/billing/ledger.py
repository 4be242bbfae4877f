"""Posting to the ledger: balanced transfers, holds posted for less or voided, exactly once.

Accounts are locked in primary-key order (SELECT … FOR UPDATE on PostgreSQL; SQLite serialises
writers) and each balance moves by a conditional UPDATE that keeps `balance >= held`, so no
balance goes below zero however many requests race. Call these inside the caller's transaction;
never call a gateway while holding these locks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from yuyue.core.errors import DomainError

from .models import AccountKind, Entry, Hold, HoldStatus, LedgerAccount, Transfer

MAX_AMOUNT = 10**12  # ¥10 billion: anything larger is a bug or an attack
OUTSIDE = {AccountKind.GATEWAY_CLEARING, AccountKind.PROMOTION_EXPENSE, AccountKind.PAYOUT_CLEARING}


def account(kind: str, owner_type: str = "", owner_id: int | None = None) -> LedgerAccount:
    """The account of `kind` for an owner (created on first use)."""
    code = f"{kind}:{owner_type}:{owner_id}" if owner_type else kind
    acc = LedgerAccount.objects.filter(code=code).first()
    if acc is not None:
        return acc
    try:
        with transaction.atomic():
            return LedgerAccount.objects.create(
                code=code,
                kind=kind,
                owner_type=owner_type,
                owner_id=owner_id,
                allow_negative=kind in OUTSIDE,
            )
    except IntegrityError:
        return LedgerAccount.objects.get(code=code)


def check_amount(amount) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= MAX_AMOUNT:
        raise DomainError("invalid_amount", max=MAX_AMOUNT)
    return amount


def _legs(legs: Iterable[tuple[LedgerAccount, int]]) -> dict[int, int]:
    net: dict[int, int] = defaultdict(int)
    for acc, amount in legs:
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise DomainError("invalid_amount", max=MAX_AMOUNT)
        if abs(amount) > MAX_AMOUNT:
            raise DomainError("invalid_amount", max=MAX_AMOUNT)
        net[acc.pk] += amount
    net = {k: v for k, v in net.items() if v}
    if not net:
        raise DomainError("invalid_amount", max=MAX_AMOUNT)
    if sum(net.values()) != 0:
        raise ValueError(f"unbalanced transfer: {dict(net)}")  # a bug in our code, never input
    return net


def _move(net: dict[int, int]) -> None:
    """Apply signed amounts to accounts, in pk order, never below what each account holds."""
    list(
        LedgerAccount.objects.select_for_update()
        .filter(pk__in=sorted(net))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for pk in sorted(net):
        amount = net[pk]
        rows = LedgerAccount.objects.filter(pk=pk)
        if amount < 0:
            rows = rows.filter(Q(allow_negative=True) | Q(balance__gte=F("held") - amount))
        if not rows.update(balance=F("balance") + amount):
            raise DomainError("insufficient_funds")


def post_transfer(
    *, key: str, kind: str, legs: Iterable[tuple[LedgerAccount, int]], memo: str = "", booking=None
) -> tuple[Transfer, bool]:
    """Post a balanced transfer once per key. Returns (transfer, created)."""
    assert transaction.get_connection().in_atomic_block, "post_transfer needs a transaction"
    legs = list(legs)
    net = _legs(legs)
    existing = Transfer.objects.filter(key=key).first()
    if existing is not None:
        return _same(existing, kind, net), False
    try:
        with transaction.atomic():
            transfer = Transfer.objects.create(key=key, kind=kind, memo=memo[:200], booking=booking)
    except IntegrityError:  # the same key posted concurrently: it won, we answer with it
        return _same(Transfer.objects.get(key=key), kind, net), False
    _move(net)
    Entry.objects.bulk_create(
        [
            Entry(transfer=transfer, account_id=pk, amount=amount)
            for pk, amount in sorted(net.items())
        ]
    )
    return transfer, True


def _same(transfer: Transfer, kind: str, net: dict[int, int]) -> Transfer:
    got = dict(transfer.entries.values_list("account_id", "amount"))
    if transfer.kind != kind or got != net:
        raise DomainError("idempotency_key_reused")
    return transfer


# --- holds (two-phase) ---------------------------------------------------------------------


def create_hold(*, key: str, account: LedgerAccount, amount: int, booking=None) -> Hold:
    """Set `amount` aside on `account`; refused if the account has less available."""
    assert transaction.get_connection().in_atomic_block, "create_hold needs a transaction"
    check_amount(amount)
    existing = Hold.objects.filter(key=key).first()
    if existing is not None:
        if existing.account_id != account.pk or existing.amount != amount:
            raise DomainError("idempotency_key_reused")
        return existing
    try:
        with transaction.atomic():
            hold = Hold.objects.create(key=key, account=account, amount=amount, booking=booking)
    except IntegrityError:
        return Hold.objects.get(key=key)
    rows = LedgerAccount.objects.filter(pk=account.pk, balance__gte=F("held") + amount)
    if not rows.update(held=F("held") + amount):
        raise DomainError("insufficient_funds")
    return hold


def extend_hold(*, hold: Hold, extra: int) -> Hold:
    """Raise a pending hold by `extra` if the account has that much more available."""
    check_amount(extra)
    if not Hold.objects.filter(pk=hold.pk, status=HoldStatus.PENDING).exists():
        raise DomainError("hold_closed")
    rows = LedgerAccount.objects.filter(pk=hold.account_id, balance__gte=F("held") + extra)
    if not rows.update(held=F("held") + extra):
        raise DomainError("insufficient_funds")
    Hold.objects.filter(pk=hold.pk).update(amount=F("amount") + extra)
    hold.refresh_from_db()
    return hold


def _close(hold: Hold, status: str, posted: int) -> bool:
    rows = Hold.objects.filter(pk=hold.pk, status=HoldStatus.PENDING).update(
        status=status, posted_amount=posted, closed_at=timezone.now()
    )
    if rows:
        LedgerAccount.objects.filter(pk=hold.account_id).update(held=F("held") - hold.amount)
    return bool(rows)


def void_hold(*, hold: Hold) -> bool:
    """Release a pending hold entirely. False if it was already closed (safe to repeat)."""
    assert transaction.get_connection().in_atomic_block, "void_hold needs a transaction"
    hold.refresh_from_db()
    return _close(hold, HoldStatus.VOIDED, 0)


def post_hold(
    *, hold: Hold, amount: int, to: Iterable[tuple[LedgerAccount, int]], kind: str, memo: str = ""
) -> Transfer | None:
    """Post `amount` (≤ the hold) from the held account to `to`; release the rest. Once only."""
    assert transaction.get_connection().in_atomic_block, "post_hold needs a transaction"
    hold.refresh_from_db()
    if amount < 0 or amount > hold.amount or isinstance(amount, bool):
        raise DomainError("invalid_amount", max=hold.amount)
    if not _close(hold, HoldStatus.POSTED, amount):
        return hold.transfer  # already posted or voided: nothing more happens
    if amount == 0:
        return None
    to = list(to)
    if sum(a for _, a in to) != amount:
        raise ValueError("post_hold legs must add up to the posted amount")
    held_account = LedgerAccount.objects.get(pk=hold.account_id)
    transfer, _ = post_transfer(
        key=f"hold:{hold.key}",
        kind=kind,
        memo=memo,
        legs=[(held_account, -amount), *to],
        booking=hold.booking,
    )
    Hold.objects.filter(pk=hold.pk).update(transfer=transfer)
    return transfer


# --- reading -------------------------------------------------------------------------------


def balance_from_entries(acc: LedgerAccount) -> int:
    return acc.entries.aggregate(total=Sum("amount"))["total"] or 0


def unbalanced_transfers(using: str = "default") -> list[int]:
    """Ids of transfers whose entries do not sum to zero (there must never be any), in the
    database `using` (a restored one: billing/restore_checks.py)."""
    return list(
        Transfer.objects.using(using)
        .annotate(total=Sum("entries__amount"))
        .exclude(total=0)
        .values_list("pk", flat=True)
    )
