"""Refunds: by the service's tiered policy when a paid order is cancelled, or a part by an
operator; back to the way it was paid; each exactly once.

The amount is claimed first by a conditional UPDATE on the payment (`refunded + amount <=
amount`) and committed; only then is the gateway called (no lock held); then the ledger posts
with the refund's key. Two refunds racing for the last of a payment: one gets it.
"""

from __future__ import annotations

import datetime as dt

from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from yuyue.core.audit import audit
from yuyue.core.errors import DomainError
from yuyue.core.metrics import count
from yuyue.orders.models import Booking, BookingEvent, BookingStatus
from yuyue.orders.models import PaymentStatus as OrderPayment

from . import ledger, loyalty
from .gateways import get_gateway
from .metrics import REFUNDED_FEN, REFUNDS
from .models import AccountKind, Entry, Payment, PaymentStatus, Refund, Transfer
from .settlement import split


def escrow_held(booking_id: int) -> int:
    """What escrow still holds for an order: its payments in, minus refunds and what was
    already settled or kept — read from the ledger, so it is right whatever happened."""
    escrow = ledger.account(AccountKind.ORDER_ESCROW)
    return (
        Entry.objects.filter(account=escrow, transfer__booking_id=booking_id).aggregate(
            n=Sum("amount")
        )["n"]
        or 0
    )


def policy_refund(booking: Booking, *, when: dt.datetime | None = None) -> int:
    """What the customer gets back when they cancel now, by the service's refund rules."""
    rules = booking.service.refund_rules or {}
    when = when or timezone.now()
    paid = booking.price_fen
    if (
        booking.status
        in (BookingStatus.IN_SERVICE, BookingStatus.COMPLETED, BookingStatus.CHECKED_IN)
        or when >= booking.starts_at
    ):
        return 0
    keep = 0
    free_until = booking.starts_at - dt.timedelta(hours=float(rules.get("free_hours", 0)))
    if when >= free_until:
        keep += paid * int(rules.get("fee_percent", 0)) // 100
    departed = BookingEvent.objects.filter(booking=booking, step="depart").exists()
    if departed:
        keep += int(rules.get("travel_fee_fen", 0))
    return max(0, paid - min(keep, paid))


def _paid_payment(booking: Booking) -> Payment:
    payment = Payment.objects.filter(booking=booking, status=PaymentStatus.PAID).first()
    if payment is None:
        raise DomainError("nothing_to_refund")
    return payment


def refund(*, actor, booking_id: int, amount_fen: int, key: str, reason: str = "") -> Refund:
    """Refund `amount_fen` of an order's payment, once per key. A refund whose gateway call
    failed stays claimed; calling again with its key finishes it (the gateway's refund is keyed
    too, so a refund it did make is not made twice)."""
    ledger.check_amount(amount_fen)
    existing = Refund.objects.filter(key=key).first()
    if existing is not None:
        if existing.amount_fen != amount_fen:
            raise DomainError("idempotency_key_reused")
        if not Transfer.objects.filter(key=f"refund:{key}").exists():
            _finish(existing, actor)
            existing.refresh_from_db()
        return existing
    booking = Booking.objects.filter(pk=booking_id).first()
    if booking is None:
        raise DomainError("not_found")
    payment = _paid_payment(booking)
    try:
        with transaction.atomic():
            # Claimed under the order's row lock, which settlement takes too: settlement sees
            # this claim (and waits for it), or this refund sees the order settled or its rest
            # kept — the money is no longer in escrow, refused.
            Booking.objects.select_for_update().filter(pk=booking.pk).first()
            done = [f"order:{booking.pk}:settled", f"order:{booking.pk}:kept"]
            if Transfer.objects.filter(key__in=done).exists():
                raise DomainError("order_settled")
            record = Refund.objects.create(
                key=key, payment=payment, amount_fen=amount_fen, reason=reason[:200]
            )
            if not Payment.objects.filter(
                pk=payment.pk, refunded_fen__lte=F("amount_fen") - amount_fen
            ).update(refunded_fen=F("refunded_fen") + amount_fen):
                raise DomainError("refund_exceeds_payment")
            count(REFUNDS, gateway=payment.gateway)
            count(REFUNDED_FEN, amount_fen, gateway=payment.gateway)
    except IntegrityError:  # the same key claimed concurrently: finish (or answer) that one
        if not Refund.objects.filter(key=key).exists():
            raise
        return refund(
            actor=actor, booking_id=booking_id, amount_fen=amount_fen, key=key, reason=reason
        )
    _finish(record, actor)
    record.refresh_from_db()
    return record


def _finish(record: Refund, actor) -> None:
    """Pay a claimed refund back through the gateway (no lock held), then post it to the ledger
    once. The split is worked out under the payment's row lock from the refunds already posted,
    so refunds finishing in any order (a retried one late) send back exactly the discounts'
    share in total."""
    payment = Payment.objects.select_related("booking").get(pk=record.payment_id)
    if payment.gateway != "wallet":
        # a date's share of a package is refunded against the package's trade
        trade = payment.trade
        refund_id = get_gateway(payment.gateway).refund(trade, record.amount_fen, record.key)
        Refund.objects.filter(pk=record.pk).update(gateway_refund_id=refund_id)
    booking = payment.booking
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if Transfer.objects.filter(key=f"refund:{record.key}").exists():
            return  # a concurrent retry finished it
        others = dict(
            Refund.objects.filter(payment=payment)
            .exclude(pk=record.pk)
            .values_list("key", "amount_fen")
        )
        posted = Transfer.objects.filter(key__in=[f"refund:{k}" for k in others]).values_list(
            "key", flat=True
        )
        before = sum(others[k.removeprefix("refund:")] for k in posted)
        amount_fen = record.amount_fen
        payment.refunded_fen = before  # as it was before this refund: for the splits
        to_cash, to_bonus = loyalty.refund_split(payment, amount_fen)
        # The discounts (level, coupon, points) were paid into escrow by promotion expense:
        # the same share of them goes back there, so escrow keeps only what is still owed.
        promo = max(0, booking.price_fen - payment.amount_fen)
        promo_back = (
            promo * (before + amount_fen) // payment.amount_fen
            - promo * before // payment.amount_fen
        )
        if payment.gateway == "wallet":
            legs = [
                (ledger.account(AccountKind.CUSTOMER_CASH, "user", payment.customer_id), to_cash),
                (loyalty.bonus_account(payment.customer_id), to_bonus),
            ]
        else:
            legs = [(ledger.account(AccountKind.GATEWAY_CLEARING), amount_fen)]
        ledger.post_transfer(
            key=f"refund:{record.key}",
            kind="refund",
            booking=booking,
            legs=[
                (ledger.account(AccountKind.ORDER_ESCROW), -amount_fen - promo_back),
                (ledger.account(AccountKind.PROMOTION_EXPENSE), promo_back),
            ]
            + [(acc, n) for acc, n in legs if n],
        )
        loyalty.after_refund(payment, record.key)
        # the order says what became of its payment: all of it back, or part
        refunded = before + amount_fen
        Booking.objects.filter(
            pk=booking.pk, payment_status__in=(OrderPayment.PAID, OrderPayment.PARTIALLY_REFUNDED)
        ).update(
            payment_status=(
                OrderPayment.REFUNDED
                if refunded >= payment.amount_fen
                else OrderPayment.PARTIALLY_REFUNDED
            )
        )
        audit(actor, "booking.refund", booking, amount=amount_fen, key=record.key)


def apply_refund_notice(*, gateway: str, note) -> str:
    """How a refund we asked a gateway for ended, from its verified notice (inside the notice's
    transaction, recorded once by the caller). Our books already show the refund: one that did
    not succeed (WeChat Pay's ABNORMAL: the payer's card or account could not take it; CLOSED)
    is audited and logged for operators to pay back another way."""
    import logging

    from .gateways.base import refund_number

    record = next(
        (
            r
            for r in Refund.objects.filter(
                Q(payment__out_trade_no=note.out_trade_no)
                | Q(payment__package__out_trade_no=note.out_trade_no),
                payment__gateway=gateway,
            )
            if refund_number(r.key) == note.refund_no
        ),
        None,
    )
    if record is None:
        raise DomainError("unknown_refund")
    if note.amount_fen != record.amount_fen:
        raise DomainError("amount_mismatch")
    if note.txn_id and not record.gateway_refund_id:
        Refund.objects.filter(pk=record.pk).update(gateway_refund_id=note.txn_id[:64])
    if note.success:
        return "refund_success"
    state = (note.state or "failed").lower()[:16]
    audit(
        None,
        f"refund.{state}",
        record,
        booking=record.payment.booking_id,
        amount=record.amount_fen,
        gateway=gateway,
        gateway_state=note.state,
    )
    logging.getLogger(__name__).error(
        "refund %s (%s fen) ended %s at %s", record.key, record.amount_fen, note.state, gateway
    )
    return f"refund_{state}"


def _claimed(key: str, back: int) -> int:
    """When run again (its gateway call failed the first time), a job finishes the refund it
    already claimed rather than working out a new one from what is left."""
    pending = Refund.objects.filter(key=key).values_list("amount_fen", flat=True).first()
    return back if pending is None else pending


def refund_cancelled_order(*, booking_id: int) -> Refund | None:
    """After a paid order is cancelled: refund by policy, and book what is kept as revenue."""
    booking = Booking.objects.select_related("merchant", "service").get(pk=booking_id)
    if not Payment.objects.filter(booking=booking, status=PaymentStatus.PAID).exists():
        return None
    cancelled_at = booking.cancelled_at or timezone.now()
    if booking.cancelled_role in ("staff", "operator", "provider"):
        back = booking.price_fen  # not the customer's doing: everything back
    else:
        # the status before cancelling decides the rules; `policy_refund` reads events
        booking.status = (
            BookingEvent.objects.filter(booking=booking)
            .exclude(step__in=["cancel", "staff_cancel"])
            .values_list("to_status", flat=True)
            .last()
            or BookingStatus.ACCEPTED
        )
        back = policy_refund(booking, when=cancelled_at)
    # The policy speaks of the price; the customer gets that share of what they paid (the
    # discounts' share goes back to promotion expense inside `refund`).
    payment = _paid_payment(booking)
    back = back * payment.amount_fen // booking.price_fen if booking.price_fen else 0
    back = min(back, payment.amount_fen - payment.refunded_fen)
    back = _claimed(f"cancel:{booking.pk}", back)
    record = None
    if back:
        record = refund(
            actor=None,
            booking_id=booking.pk,
            amount_fen=back,
            key=f"cancel:{booking.pk}",
            reason="cancelled",
        )
    _keep(booking, kind="cancellation_fee", provider_share=False)
    return record


def _keep(booking: Booking, *, kind: str, provider_share: bool) -> None:
    """What escrow still holds for an order that will not be served is kept: split into
    commission, merchant share and (for a provider who came) the provider's share."""
    kept = escrow_held(booking.pk)
    if kept <= 0:
        return
    with_provider = provider_share and booking.provider_id is not None
    platform, merchant, provider = split(
        kept,
        booking.merchant.commission_bp,
        booking.merchant.provider_share_bp if with_provider else 0,
        with_provider,
    )
    legs = [
        (ledger.account(AccountKind.ORDER_ESCROW), -kept),
        (ledger.account(AccountKind.PLATFORM_REVENUE), platform),
        (ledger.account(AccountKind.MERCHANT_SHARE, "merchant", booking.merchant_id), merchant),
    ]
    if provider:
        legs.append(
            (ledger.account(AccountKind.PROVIDER_FROZEN, "provider", booking.provider_id), provider)
        )
    with transaction.atomic():
        ledger.post_transfer(
            key=f"order:{booking.pk}:kept",
            kind=kind,
            booking=booking,
            legs=[(a, n) for a, n in legs if n],
        )


def settle_no_show(*, booking_id: int) -> Refund | None:
    """A paid order whose customer did not come: `refund_rules.no_show_percent` of the price is
    kept (default all of it), the rest refunded; what is kept is split like a completed order's,
    the provider's share included when the provider came."""
    booking = Booking.objects.select_related("merchant", "service").get(pk=booking_id)
    if booking.status != BookingStatus.NO_SHOW:
        return None
    payment = Payment.objects.filter(booking=booking, status=PaymentStatus.PAID).first()
    if payment is None:
        return None
    percent = int((booking.service.refund_rules or {}).get("no_show_percent", 100))
    back_on_price = booking.price_fen * (100 - max(0, min(100, percent))) // 100
    back = back_on_price * payment.amount_fen // booking.price_fen if booking.price_fen else 0
    back = min(back, payment.amount_fen - payment.refunded_fen)
    back = _claimed(f"noshow:{booking.pk}", back)
    record = None
    if back:
        record = refund(
            actor=None,
            booking_id=booking.pk,
            amount_fen=back,
            key=f"noshow:{booking.pk}",
            reason="no-show",
        )
    _keep(booking, kind="no_show_fee", provider_share=True)
    if booking.provider_id:
        import datetime as dt

        from django.conf import settings

        from .tasks import release_earnings_job

        at = timezone.now() + dt.timedelta(hours=settings.YUYUE_EARNINGS_FREEZE_HOURS)
        release_earnings_job.using(run_after=at).enqueue(booking.pk)
    return record
