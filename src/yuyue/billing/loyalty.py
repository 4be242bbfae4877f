"""Loyalty: membership levels from accumulated spend, points, and stored-value top-up plans.

- **Spend** is what a customer paid for orders minus what was refunded, read from the payments
  (never a counter that could drift). The highest level whose threshold it reaches gives its
  discount on every order the customer pays (wallet or gateway).
- **Points**: 1 point per whole ¥1 paid for an order (YUYUE_POINTS_PER_YUAN), granted when the
  order is paid, each grant expiring after YUYUE_POINTS_DAYS. At wallet payment points are
  redeemed as a discount, 1 point = 1 fen (100 points = ¥1), at most YUYUE_POINTS_MAX_PERCENT of the
  price; the oldest lots are consumed first, each by a conditional UPDATE, so two payments cannot
  spend the same points. A refund takes back the points its share of the payment earned (as far as
  the customer still has them) and gives back its share of the points redeemed.
- **Stored value**: a plan (pay X, get X + bonus) is bought through a gateway like a top-up; the
  cash goes to customer cash and the bonus, funded by promotion expense, to customer bonus. A wallet
  payment spends cash first, then bonus; its refund gives back bonus first (up to what the payment
  took from bonus), then cash — so a bonus never turns into cash.

Level, coupon and points discounts are all promotion expense: escrow always receives the full
price, so settlement and commissions are computed on the list price.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from yuyue.core.errors import DomainError

from . import ledger
from .models import (
    AccountKind,
    MembershipLevel,
    Payment,
    PaymentPurpose,
    PaymentStatus,
    PointsEntry,
    PointsKind,
    TopUpPlan,
)

# --- membership ------------------------------------------------------------------------------


def spend(customer_id: int) -> int:
    """What the customer paid for orders, minus refunds."""
    row = Payment.objects.filter(
        customer_id=customer_id, purpose=PaymentPurpose.ORDER, status=PaymentStatus.PAID
    ).aggregate(paid=Sum("amount_fen"), back=Sum("refunded_fen"))
    return (row["paid"] or 0) - (row["back"] or 0)


def level_of(customer_id: int) -> tuple[MembershipLevel | None, MembershipLevel | None, int]:
    """(current level, next level, spend)."""
    total = spend(customer_id)
    levels = list(MembershipLevel.objects.order_by("min_spend_fen"))
    current = None
    upcoming = None
    for level in levels:
        if level.min_spend_fen <= total:
            current = level
        elif upcoming is None:
            upcoming = level
    return current, upcoming, total


def level_discount(customer_id: int, price_fen: int) -> int:
    current, _, _ = level_of(customer_id)
    return price_fen * current.discount_bp // 10_000 if current else 0


# --- points ----------------------------------------------------------------------------------


def points_balance(customer_id: int, now: dt.datetime | None = None) -> int:
    """Points the customer can use now (lots not yet expired)."""
    now = now or timezone.now()
    return (
        PointsEntry.objects.filter(customer_id=customer_id, remaining__gt=0)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .aggregate(n=Sum("remaining"))["n"]
        or 0
    )


def _grant(customer_id: int, points: int, key: str, kind: str, **links) -> PointsEntry | None:
    if points <= 0:
        return None
    expires = timezone.now() + dt.timedelta(days=settings.YUYUE_POINTS_DAYS)
    try:
        with transaction.atomic():
            return PointsEntry.objects.create(
                customer_id=customer_id,
                key=key,
                kind=kind,
                delta=points,
                remaining=points,
                expires_at=expires,
                **links,
            )
    except IntegrityError:
        return None  # granted already (the same key): once only


def _consume(customer_id: int, points: int, key: str, kind: str, *, cap: bool, **links) -> int:
    """Take `points` from the oldest unexpired lots (all or, with `cap`, as many as there are).
    Returns the points taken. Call inside a transaction."""
    if points <= 0 or PointsEntry.objects.filter(key=key).exists():
        return 0
    now = timezone.now()
    lots = list(
        PointsEntry.objects.select_for_update()
        .filter(customer_id=customer_id, remaining__gt=0, expires_at__gt=now)
        .order_by("expires_at", "id")
    )
    available = sum(lot.remaining for lot in lots)
    if available < points and not cap:
        raise DomainError("insufficient_points", available=available)
    need = min(points, available)
    taken = 0
    for lot in lots:
        if taken == need:
            break
        take = min(lot.remaining, need - taken)
        if not PointsEntry.objects.filter(pk=lot.pk, remaining__gte=take).update(
            remaining=F("remaining") - take
        ):
            raise DomainError("insufficient_points", available=available - taken)
        taken += take
    if taken:
        PointsEntry.objects.create(
            customer_id=customer_id, key=key, kind=kind, delta=-taken, **links
        )
    return taken


def earn_points(payment: Payment) -> PointsEntry | None:
    """Points for a paid order (inside the payment's transaction)."""
    if payment.purpose != PaymentPurpose.ORDER:
        return None
    points = payment.amount_fen // 100 * settings.YUYUE_POINTS_PER_YUAN
    return _grant(
        payment.customer_id,
        points,
        f"earn:{payment.pk}",
        PointsKind.EARN,
        payment=payment,
        booking=payment.booking,
    )


def redeem_points(*, customer_id: int, booking, points: int, price_fen: int, room_fen: int) -> int:
    """Spend up to `points` on an order (1 point = 1 fen), within the cap and the price left after
    other discounts. Returns the discount in fen (= points spent)."""
    if isinstance(points, bool) or not isinstance(points, int) or points < 0:
        raise DomainError("invalid_points")
    cap = price_fen * settings.YUYUE_POINTS_MAX_PERCENT // 100
    use = min(points, cap, max(0, room_fen))
    if not use:
        return 0
    return _consume(
        customer_id, use, f"redeem:{booking.pk}", PointsKind.REDEEM, cap=False, booking=booking
    )


def after_refund(payment: Payment, refund_key: str) -> None:
    """A refund's share of the points: earned ones taken back (as far as the customer still has
    them), redeemed ones given back. Inside the refund's transaction; once per refund key."""
    payment.refresh_from_db()
    if payment.purpose != PaymentPurpose.ORDER or not payment.amount_fen:
        return
    share = (payment.refunded_fen, payment.amount_fen)
    earned = PointsEntry.objects.filter(key=f"earn:{payment.pk}").values_list("delta", flat=True)
    earned = earned.first() or 0
    taken = -(
        PointsEntry.objects.filter(payment=payment, kind=PointsKind.REVERSE).aggregate(
            n=Sum("delta")
        )["n"]
        or 0
    )
    due = earned * share[0] // share[1] - taken
    _consume(
        payment.customer_id,
        due,
        f"reverse:{refund_key}",
        PointsKind.REVERSE,
        cap=True,
        payment=payment,
        booking=payment.booking,
    )
    if payment.booking_id is None:
        return
    redeemed = -(
        PointsEntry.objects.filter(booking_id=payment.booking_id, kind=PointsKind.REDEEM).aggregate(
            n=Sum("delta")
        )["n"]
        or 0
    )
    restored = (
        PointsEntry.objects.filter(
            booking_id=payment.booking_id, kind=PointsKind.RESTORE
        ).aggregate(n=Sum("delta"))["n"]
        or 0
    )
    _grant(
        payment.customer_id,
        redeemed * share[0] // share[1] - restored,
        f"restore:{refund_key}",
        PointsKind.RESTORE,
        booking=payment.booking,
        payment=payment,
    )


def expire_points(now: dt.datetime | None = None) -> int:
    """Lots past their expiry lose what is left of them. Returns the points expired."""
    now = now or timezone.now()
    total = 0
    for lot in PointsEntry.objects.filter(remaining__gt=0, expires_at__lte=now):
        with transaction.atomic():
            left = lot.remaining
            if PointsEntry.objects.filter(pk=lot.pk, remaining=left).update(remaining=0):
                PointsEntry.objects.create(
                    customer_id=lot.customer_id,
                    key=f"expire:{lot.pk}",
                    kind=PointsKind.EXPIRE,
                    delta=-left,
                )
                total += left
    return total


# --- stored value ------------------------------------------------------------------------------


def bonus_account(customer_id: int):
    return ledger.account(AccountKind.CUSTOMER_BONUS, "user", customer_id)


def active_plan(plan_id: int) -> TopUpPlan:
    plan = TopUpPlan.objects.filter(pk=plan_id, active=True).first()
    if plan is None:
        raise DomainError("not_found")
    return plan


def credit_bonus(payment: Payment) -> None:
    """The bonus of a plan bought with `payment` (inside the notification's transaction)."""
    if payment.plan_id is None or not payment.plan.bonus_fen:
        return
    ledger.post_transfer(
        key=f"payment:{payment.pk}:bonus",
        kind="top_up_bonus",
        legs=[
            (ledger.account(AccountKind.PROMOTION_EXPENSE), -payment.plan.bonus_fen),
            (bonus_account(payment.customer_id), payment.plan.bonus_fen),
        ],
    )


def wallet_split(customer_id: int, due: int) -> tuple[int, int]:
    """(from cash, from bonus) for paying `due` from the wallet: cash first."""
    from .payments import wallet

    cash = wallet(customer_id).available
    from_cash = min(due, max(0, cash))
    return from_cash, due - from_cash


def refund_split(payment: Payment, amount: int) -> tuple[int, int]:
    """(to cash, to bonus) for refunding `amount` of a wallet payment: bonus first. Call with the
    payment as it was before this refund."""
    bonus_left = max(0, payment.bonus_fen - payment.refunded_fen)
    to_bonus = min(amount, bonus_left)
    return amount - to_bonus, to_bonus


# --- managing levels and plans -------------------------------------------------------------------


def _require_operator(actor) -> None:
    if not getattr(actor, "is_operator", False):
        raise DomainError("forbidden")


def _money(value, name: str, *, low: int = 0) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not low <= value <= ledger.MAX_AMOUNT
    ):
        raise DomainError("invalid_amount", max=ledger.MAX_AMOUNT)
    return value


def create_level(*, actor, name: str, min_spend_fen: int, discount_bp: int) -> MembershipLevel:
    _require_operator(actor)
    _money(min_spend_fen, "min_spend_fen")
    if (
        isinstance(discount_bp, bool)
        or not isinstance(discount_bp, int)
        or not (0 <= discount_bp <= 5000)
    ):
        raise DomainError("invalid_discount", max=5000)
    if not name.strip():
        raise DomainError("invalid_input", "A level needs a name.")
    try:
        with transaction.atomic():
            return MembershipLevel.objects.create(
                name=name.strip(), min_spend_fen=min_spend_fen, discount_bp=discount_bp
            )
    except IntegrityError as exc:
        raise DomainError("level_exists") from exc


def create_plan(*, actor, name: str, pay_fen: int, bonus_fen: int) -> TopUpPlan:
    _require_operator(actor)
    _money(pay_fen, "pay_fen", low=100)
    _money(bonus_fen, "bonus_fen")
    if bonus_fen > pay_fen:
        raise DomainError("invalid_amount", max=pay_fen)
    if not name.strip():
        raise DomainError("invalid_input", "A plan needs a name.")
    return TopUpPlan.objects.create(name=name.strip(), pay_fen=pay_fen, bonus_fen=bonus_fen)
