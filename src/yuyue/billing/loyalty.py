"""Loyalty: membership levels from accumulated spend, points, and stored-value top-up plans.

- **Spend** is what a customer paid for orders minus what was refunded, read from the payments
  (never a counter that could drift). Levels are the platform's (spend everywhere counts) or a
  merchant's (spend at that merchant counts, its orders only). For an order, the highest level
  reached on each of the two ladders is looked at and the one giving the larger discount applies
  — never both. It applies to every order the customer pays (wallet or gateway).
- **Order of discounts** (`checkout.py`): the level discount comes off the price first; a coupon
  then works on what is left (its threshold and percentage read that amount); points come last,
  on what is left after both, at most YUYUE_POINTS_MAX_PERCENT of the price.
- **Points**: 1 point per whole ¥1 paid for an order (YUYUE_POINTS_PER_YUAN), granted when the
  order is paid, each grant expiring after YUYUE_POINTS_DAYS. At wallet payment points are
  redeemed as a discount, 1 point = 1 fen (100 points = ¥1), at most YUYUE_POINTS_MAX_PERCENT of the
  price; the oldest lots are consumed first, each by a conditional UPDATE, so two payments cannot
  spend the same points. A refund takes back the points its share of the payment earned (as far as
  the customer still has them) and gives back its share of the points redeemed.
- **Stored value** (`topups.py`): plans, their bonus kept apart from cash, cash spent first,
  refunds of a top-up that never pay out a bonus.

Level, coupon and points discounts are all promotion expense: escrow always receives the full
price, so settlement and commissions are computed on the list price.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from yuyue.catalog.models import Merchant
from yuyue.core.audit import audit
from yuyue.core.errors import DomainError

from . import ledger
from .models import (
    MembershipLevel,
    Payment,
    PaymentPurpose,
    PaymentStatus,
    PointsEntry,
    PointsKind,
)

# --- membership ------------------------------------------------------------------------------


def spend(customer_id: int, merchant_id: int | None = None) -> int:
    """What the customer paid for orders (at one merchant, if given), minus refunds."""
    rows = Payment.objects.filter(
        customer_id=customer_id, purpose=PaymentPurpose.ORDER, status=PaymentStatus.PAID
    )
    if merchant_id is not None:
        rows = rows.filter(booking__merchant_id=merchant_id)
    row = rows.aggregate(paid=Sum("amount_fen"), back=Sum("refunded_fen"))
    return (row["paid"] or 0) - (row["back"] or 0)


def level_of(
    customer_id: int, merchant_id: int | None = None
) -> tuple[MembershipLevel | None, MembershipLevel | None, int]:
    """(current level, next level, spend) on the platform's ladder, or a merchant's."""
    total = spend(customer_id, merchant_id)
    levels = list(MembershipLevel.objects.filter(merchant_id=merchant_id).order_by("min_spend_fen"))
    current = None
    upcoming = None
    for level in levels:
        if level.min_spend_fen <= total:
            current = level
        elif upcoming is None:
            upcoming = level
    return current, upcoming, total


def order_level(
    customer_id: int, merchant_id: int | None, price_fen: int
) -> tuple[MembershipLevel | None, int]:
    """The level that discounts an order and its discount in fen: the better of the platform's
    level and the merchant's (never both added)."""
    best: tuple[MembershipLevel | None, int] = (None, 0)
    for ladder in (None, merchant_id) if merchant_id is not None else (None,):
        level, _, _ = level_of(customer_id, ladder)
        if level is None:
            continue
        off = price_fen * level.discount_bp // 10_000
        if best[0] is None or off > best[1]:
            best = (level, off)
    return best


def level_discount(customer_id: int, price_fen: int, merchant_id: int | None = None) -> int:
    return order_level(customer_id, merchant_id, price_fen)[1]


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


def points_summary(customer_id: int, now: dt.datetime | None = None, limit: int = 50) -> dict:
    """A customer's points: the balance, what expires within 30 days, the latest moves."""
    now = now or timezone.now()
    soon = PointsEntry.objects.filter(
        customer_id=customer_id,
        remaining__gt=0,
        expires_at__gt=now,
        expires_at__lte=now + dt.timedelta(days=30),
    ).values_list("remaining", flat=True)
    return {
        "balance": points_balance(customer_id, now),
        "expiring_in_30_days": sum(soon),
        "entries": list(
            PointsEntry.objects.filter(customer_id=customer_id).order_by("-id")[:limit]
        ),
    }


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


def points_usable(points, *, price_fen: int, room_fen: int) -> int:
    """How many of the `points` asked for an order can be spent: within the cap (a share of the
    price) and the price left after the other discounts. Refuses what is not a count."""
    if isinstance(points, bool) or not isinstance(points, int) or points < 0:
        raise DomainError("invalid_points")
    cap = price_fen * settings.YUYUE_POINTS_MAX_PERCENT // 100
    return min(points, cap, max(0, room_fen))


def spend_points(*, customer_id: int, booking, points: int) -> int:
    """Spend exactly `points` on an order, oldest lots first, once per order (inside the
    payment's transaction); refused with insufficient_points if the customer has fewer."""
    if not points:
        return 0
    return _consume(
        customer_id, points, f"redeem:{booking.pk}", PointsKind.REDEEM, cap=False, booking=booking
    )


def redeem_points(*, customer_id: int, booking, points: int, price_fen: int, room_fen: int) -> int:
    """Spend up to `points` on an order (1 point = 1 fen), within the cap and the price left after
    other discounts. Returns the discount in fen (= points spent)."""
    use = points_usable(points, price_fen=price_fen, room_fen=room_fen)
    return spend_points(customer_id=customer_id, booking=booking, points=use)


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


# --- managing levels ---------------------------------------------------------------------------


def _require_operator(actor) -> None:
    if not getattr(actor, "is_operator", False):
        raise DomainError("forbidden")


def _require_level_manager(actor, merchant_id: int | None) -> None:
    """Operators manage the platform's levels (and any merchant's); a merchant's owners and
    managers manage its own."""
    if merchant_id is None:
        _require_operator(actor)
    else:
        from yuyue.accounts.auth import MANAGERS, require_staff

        require_staff(actor, merchant_id, MANAGERS)


def _check_level(name, min_spend_fen, discount_bp) -> str:
    if (
        isinstance(min_spend_fen, bool)
        or not isinstance(min_spend_fen, int)
        or not 0 <= min_spend_fen <= ledger.MAX_AMOUNT
    ):
        raise DomainError("invalid_amount", max=ledger.MAX_AMOUNT)
    if (
        isinstance(discount_bp, bool)
        or not isinstance(discount_bp, int)
        or not (0 <= discount_bp <= MAX_LEVEL_DISCOUNT_BP)
    ):
        raise DomainError("invalid_discount", max=MAX_LEVEL_DISCOUNT_BP)
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 60:
        raise DomainError("invalid_input", "A level needs a name of 1 to 60 characters.")
    return name.strip()


MAX_LEVEL_DISCOUNT_BP = 5000  # 50 %: more is a typo, not a promotion


def create_level(
    *, actor, name: str, min_spend_fen: int, discount_bp: int, merchant_id: int | None = None
) -> MembershipLevel:
    """A level on the platform's ladder, or (with `merchant_id`) on a merchant's."""
    _require_level_manager(actor, merchant_id)
    name = _check_level(name, min_spend_fen, discount_bp)
    if merchant_id is not None and not Merchant.objects.filter(pk=merchant_id).exists():
        raise DomainError("not_found")
    try:
        with transaction.atomic():
            level = MembershipLevel.objects.create(
                merchant_id=merchant_id,
                name=name,
                min_spend_fen=min_spend_fen,
                discount_bp=discount_bp,
            )
            audit(actor, "loyalty.level_create", level, min_spend_fen=min_spend_fen, bp=discount_bp)
            return level
    except IntegrityError as exc:
        raise DomainError("level_exists") from exc


def _level_in_scope(actor, level_id, merchant_id: int | None) -> MembershipLevel:
    level = MembershipLevel.objects.filter(pk=level_id, merchant_id=merchant_id).first()
    if level is None:
        raise DomainError("not_found")
    _require_level_manager(actor, merchant_id)
    return level


def update_level(
    *,
    actor,
    level_id: int,
    merchant_id: int | None = None,
    name: str | None = None,
    min_spend_fen: int | None = None,
    discount_bp: int | None = None,
) -> MembershipLevel:
    """Change a level's name, threshold or discount; orders already paid keep what they got."""
    level = _level_in_scope(actor, level_id, merchant_id)
    new = (
        level.name if name is None else name,
        level.min_spend_fen if min_spend_fen is None else min_spend_fen,
        level.discount_bp if discount_bp is None else discount_bp,
    )
    name = _check_level(*new)
    try:
        with transaction.atomic():
            MembershipLevel.objects.filter(pk=level.pk).update(
                name=name, min_spend_fen=new[1], discount_bp=new[2]
            )
            audit(actor, "loyalty.level_update", level, min_spend_fen=new[1], bp=new[2])
    except IntegrityError as exc:
        raise DomainError("level_exists") from exc
    level.refresh_from_db()
    return level


def delete_level(*, actor, level_id: int, merchant_id: int | None = None) -> None:
    """Remove a level: nothing refers to it (a payment records its discount, not the level)."""
    level = _level_in_scope(actor, level_id, merchant_id)
    with transaction.atomic():
        audit(actor, "loyalty.level_delete", level, name=level.name)
        level.delete()


# --- stored value (kept in topups.py; these names stay importable from here) ----------------------

from .topups import active_plan as active_plan  # noqa: E402
from .topups import bonus_account as bonus_account  # noqa: E402
from .topups import create_plan as create_plan  # noqa: E402
from .topups import credit_bonus as credit_bonus  # noqa: E402
from .topups import refund_split as refund_split  # noqa: E402
from .topups import wallet_split as wallet_split  # noqa: E402
