"""After the work: split the paid amount, free the provider's earnings, pay withdrawals out.

On completion an order's paid amount moves out of escrow (after YUYUE_SETTLE_AFTER_HOURS, the
window for complaints) into platform commission, merchant share and the provider's frozen
earnings; those become available YUYUE_EARNINGS_FREEZE_HOURS later. A withdrawal holds available
earnings; an operator approves (payout through the gateway with an idempotency key, never under a
lock, then the hold is posted) or rejects (the hold is released). Every step is keyed: once only.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from yuyue.accounts.models import Provider
from yuyue.core.audit import audit
from yuyue.core.errors import DomainError
from yuyue.orders.models import Booking, BookingStatus
from yuyue.orders.models import PaymentStatus as OrderPayment

from . import ledger
from .models import AccountKind, SettlementHold, Transfer, Withdrawal, WithdrawalStatus

DONE = (BookingStatus.COMPLETED, BookingStatus.CHECKED_IN)
SETTLE_RETRY = dt.timedelta(minutes=10)  # while a refund of the order is in flight


def split(
    amount: int, commission_bp: int, provider_share_bp: int, has_provider: bool
) -> tuple[int, int, int]:
    """(platform, merchant, provider) in whole fen, adding up to `amount` exactly."""
    platform = amount * commission_bp // 10_000
    rest = amount - platform
    provider = rest * provider_share_bp // 10_000 if has_provider else 0
    return platform, rest - provider, provider


def schedule_settlement(booking: Booking) -> None:
    """Called when an order is done; the split happens after the complaint window."""
    if booking.payment_status not in (OrderPayment.PAID, OrderPayment.PARTIALLY_REFUNDED):
        return
    if booking.price_fen <= 0:
        return
    from .tasks import settle_order_job

    at = timezone.now() + dt.timedelta(hours=settings.YUYUE_SETTLE_AFTER_HOURS)
    transaction.on_commit(lambda: settle_order_job.using(run_after=at).enqueue(booking.pk))


def settled(booking_id: int) -> bool:
    """Whether the order's money has been split among platform, merchant and provider."""
    return Transfer.objects.filter(key=f"order:{booking_id}:settled").exists()


def hold_settlement(*, booking: Booking, key: str, reason: str = "") -> SettlementHold:
    """Keep an order from being settled until `release_settlement` with the same key. Refused
    with order_settled when it was settled already. Call it in the holder's transaction, with
    the order's row locked (settle_order checks holds under that lock)."""
    if settled(booking.pk):
        raise DomainError("order_settled")
    hold, _ = SettlementHold.objects.get_or_create(
        key=key, defaults={"booking": booking, "reason": reason[:200]}
    )
    return hold


def release_settlement(*, key: str) -> None:
    """Let go of a hold; with no other hold left, the order is settled as soon as its
    complaint window allows (at once if it is over)."""
    hold = SettlementHold.objects.filter(key=key, released_at__isnull=True).first()
    if hold is None:
        return
    SettlementHold.objects.filter(pk=hold.pk).update(released_at=timezone.now())
    booking = Booking.objects.get(pk=hold.booking_id)
    if SettlementHold.objects.filter(booking=booking, released_at__isnull=True).exists():
        return
    if booking.status in DONE:
        from .tasks import settle_order_job

        window = (booking.ends_at or timezone.now()) + dt.timedelta(
            hours=settings.YUYUE_SETTLE_AFTER_HOURS
        )
        at = max(timezone.now(), window)
        transaction.on_commit(lambda: settle_order_job.using(run_after=at).enqueue(booking.pk))


def settle_order(*, booking_id: int) -> Transfer | None:
    """Split what escrow still holds for a done order (its price, less any refunds).

    Under the order's row lock (refunds claim under it too): while a refund of the order is
    claimed but not yet posted — its gateway call failed or is under way — part of what escrow
    holds is already owed back, so settlement waits (the job runs again later) rather than split
    money that will be refunded; a refund claimed after settlement is refused (order_settled)."""
    from .refunds import escrow_held

    booking = Booking.objects.select_related("merchant", "provider").get(pk=booking_id)
    if booking.status not in DONE or booking.payment_status not in (
        OrderPayment.PAID,
        OrderPayment.PARTIALLY_REFUNDED,
    ):
        return None
    existing = Transfer.objects.filter(key=f"order:{booking.pk}:settled").first()
    if existing is not None:
        return existing
    with transaction.atomic():
        Booking.objects.select_for_update().filter(pk=booking.pk).first()
        existing = Transfer.objects.filter(key=f"order:{booking.pk}:settled").first()
        if existing is not None:  # settled meanwhile
            return existing
        if SettlementHold.objects.filter(booking=booking, released_at__isnull=True).exists():
            return None  # an open after-sales case: its release schedules settlement again
        if refunds_in_flight(booking.pk):
            from .tasks import settle_order_job

            at = timezone.now() + SETTLE_RETRY
            transaction.on_commit(lambda: settle_order_job.using(run_after=at).enqueue(booking.pk))
            return None
        amount = escrow_held(booking.pk)
        if amount <= 0:
            return None
        platform, merchant, provider = split(
            amount,
            booking.merchant.commission_bp,
            booking.merchant.provider_share_bp,
            booking.provider_id is not None,
        )
        legs = [
            (ledger.account(AccountKind.ORDER_ESCROW), -amount),
            (ledger.account(AccountKind.PLATFORM_REVENUE), platform),
            (ledger.account(AccountKind.MERCHANT_SHARE, "merchant", booking.merchant_id), merchant),
        ]
        if provider:
            legs.append(
                (
                    ledger.account(AccountKind.PROVIDER_FROZEN, "provider", booking.provider_id),
                    provider,
                )
            )
        transfer, created = ledger.post_transfer(
            key=f"order:{booking.pk}:settled",
            kind="settlement",
            booking=booking,
            legs=[(a, n) for a, n in legs if n],
        )
        if created and provider:
            from .tasks import release_earnings_job

            at = timezone.now() + dt.timedelta(hours=settings.YUYUE_EARNINGS_FREEZE_HOURS)
            transaction.on_commit(
                lambda: release_earnings_job.using(run_after=at).enqueue(booking.pk)
            )
    return transfer


def refunds_in_flight(booking_id: int) -> int:
    """How many refunds of an order are claimed (money promised back) but not yet posted."""
    from .models import Refund

    keys = list(Refund.objects.filter(payment__booking_id=booking_id).values_list("key", flat=True))
    posted = Transfer.objects.filter(key__in=[f"refund:{k}" for k in keys]).count()
    return len(keys) - posted


def release_earnings(*, booking_id: int) -> Transfer | None:
    """The provider's share of a settled order becomes available to withdraw."""
    booking = Booking.objects.get(pk=booking_id)
    settled = (
        Transfer.objects.filter(key__in=[f"order:{booking.pk}:settled", f"order:{booking.pk}:kept"])
        .order_by("pk")
        .first()
    )
    if settled is None or booking.provider_id is None:
        return None
    frozen = ledger.account(AccountKind.PROVIDER_FROZEN, "provider", booking.provider_id)
    amount = settled.entries.filter(account=frozen).values_list("amount", flat=True).first()
    if not amount:
        return None
    with transaction.atomic():
        transfer, _ = ledger.post_transfer(
            key=f"order:{booking.pk}:released",
            kind="earnings_release",
            booking=booking,
            legs=[
                (frozen, -amount),
                (
                    ledger.account(AccountKind.PROVIDER_AVAILABLE, "provider", booking.provider_id),
                    amount,
                ),
            ],
        )
    return transfer


def earnings(provider: Provider) -> dict:
    frozen = ledger.account(AccountKind.PROVIDER_FROZEN, "provider", provider.pk)
    available = ledger.account(AccountKind.PROVIDER_AVAILABLE, "provider", provider.pk)
    return {
        "frozen_fen": frozen.balance,
        "available_fen": available.available,
        "withdrawing_fen": available.held,
    }


def statement(provider: Provider, *, date_from=None, date_to=None, limit: int = 200) -> dict:
    """A provider's statement: every posting to their earnings (frozen and available), newest
    first, with what it was (settlement, release, withdrawal, no-show share), the order, and the
    balance after it; opening and closing balances of the period (platform days)."""
    from django.db.models import Sum

    from .models import Entry
    from .reports import day_bounds

    frozen = ledger.account(AccountKind.PROVIDER_FROZEN, "provider", provider.pk)
    available = ledger.account(AccountKind.PROVIDER_AVAILABLE, "provider", provider.pk)
    entries = Entry.objects.filter(account__in=[frozen, available]).select_related(
        "transfer", "account"
    )
    if date_from is not None:
        entries = entries.filter(transfer__created_at__gte=day_bounds(date_from)[0])
    if date_to is not None:
        entries = entries.filter(transfer__created_at__lt=day_bounds(date_to)[1])
    rows = list(entries.order_by("transfer__created_at", "id"))
    before = (
        Entry.objects.filter(account__in=[frozen, available], id__lt=rows[0].id) if rows else None
    )
    running = {
        frozen.pk: (before.filter(account=frozen).aggregate(n=Sum("amount"))["n"] or 0)
        if rows
        else frozen.balance,
        available.pk: (before.filter(account=available).aggregate(n=Sum("amount"))["n"] or 0)
        if rows
        else available.balance,
    }
    opening = dict(running)
    lines = []
    for e in rows:
        running[e.account_id] += e.amount
        lines.append(
            {
                "at": e.transfer.created_at,
                "kind": e.transfer.kind,
                "bucket": "frozen" if e.account_id == frozen.pk else "available",
                "booking_id": e.transfer.booking_id,
                "amount_fen": e.amount,
                "frozen_after_fen": running[frozen.pk],
                "available_after_fen": running[available.pk],
            }
        )
    return {
        "opening_frozen_fen": opening[frozen.pk],
        "opening_available_fen": opening[available.pk],
        "closing_frozen_fen": running[frozen.pk],
        "closing_available_fen": running[available.pk],
        "lines": list(reversed(lines))[:limit],
    }


def credited_by_order(provider: Provider, booking_ids) -> dict[int, int]:
    """What each of `booking_ids` put into the provider's earnings (its settlement share, a
    no-show share), in fen; orders that earned nothing yet are absent. One statement."""
    from django.db.models import Sum

    from .models import Entry

    frozen = ledger.account(AccountKind.PROVIDER_FROZEN, "provider", provider.pk)
    rows = (
        Entry.objects.filter(account=frozen, amount__gt=0, transfer__booking_id__in=booking_ids)
        .order_by()
        .values_list("transfer__booking_id")
        .annotate(n=Sum("amount"))
    )
    return dict(rows)


def request_withdrawal(*, actor, amount_fen: int) -> Withdrawal:
    provider = getattr(actor, "provider", None) if hasattr(actor, "provider") else None
    if provider is None:
        raise DomainError("forbidden")
    ledger.check_amount(amount_fen)
    if amount_fen < settings.YUYUE_MIN_WITHDRAWAL_FEN:
        raise DomainError("withdrawal_too_small", min=settings.YUYUE_MIN_WITHDRAWAL_FEN)
    available = ledger.account(AccountKind.PROVIDER_AVAILABLE, "provider", provider.pk)
    with transaction.atomic():
        n = Withdrawal.objects.filter(provider=provider).count() + 1
        hold = ledger.create_hold(
            key=f"withdrawal:{provider.pk}:{n}:{timezone.now().timestamp()}",
            account=available,
            amount=amount_fen,
        )
        w = Withdrawal.objects.create(provider=provider, amount_fen=amount_fen, hold=hold)
        audit(actor, "withdrawal.request", w, amount=amount_fen)
    return w


def _decidable(actor, withdrawal_id: int) -> Withdrawal:
    if not getattr(actor, "is_operator", False):
        raise DomainError("forbidden")
    w = Withdrawal.objects.select_related("hold", "provider").filter(pk=withdrawal_id).first()
    if w is None:
        raise DomainError("not_found")
    if w.status != WithdrawalStatus.REQUESTED:
        raise DomainError("withdrawal_decided")
    return w


def reject_withdrawal(*, actor, withdrawal_id: int, reason: str) -> Withdrawal:
    w = _decidable(actor, withdrawal_id)
    with transaction.atomic():
        if not Withdrawal.objects.filter(pk=w.pk, status=WithdrawalStatus.REQUESTED).update(
            status=WithdrawalStatus.REJECTED,
            decided_by=actor,
            decided_at=timezone.now(),
            reason=reason[:200],
        ):
            raise DomainError("withdrawal_decided")
        ledger.void_hold(hold=w.hold)
        audit(actor, "withdrawal.reject", w, reason=reason[:200])
    w.refresh_from_db()
    return w


def approve_withdrawal(*, actor, withdrawal_id: int) -> Withdrawal:
    """Pay out through the gateway (idempotent key, no lock held), then post the hold."""
    w = _decidable(actor, withdrawal_id)
    from .gateways import get_gateway

    payout_id = get_gateway("sandbox").payout(w.provider, w.amount_fen, key=f"withdrawal:{w.pk}")
    with transaction.atomic():
        if not Withdrawal.objects.filter(pk=w.pk, status=WithdrawalStatus.REQUESTED).update(
            status=WithdrawalStatus.PAID,
            decided_by=actor,
            decided_at=timezone.now(),
            payout_id=payout_id,
        ):
            raise DomainError("withdrawal_decided")
        ledger.post_hold(
            hold=w.hold,
            amount=w.amount_fen,
            kind="payout",
            to=[(ledger.account(AccountKind.PAYOUT_CLEARING), w.amount_fen)],
        )
        audit(actor, "withdrawal.paid", w, payout=payout_id)
    w.refresh_from_db()
    return w
