"""Stored value 储值: plans (pay ¥500, get ¥550), the bonus kept apart from cash, and refunds of
top-ups that never pay out a bonus.

- A plan is bought through a gateway like a top-up (`POST /api/payments {"plan_id"}`); when the
  gateway confirms, the cash goes to customer cash and the plan's bonus, funded by promotion
  expense, to customer bonus (`credit_bonus`, keyed once per payment). A plan's terms (pay, bonus)
  never change once it exists — a payment started under them is credited under them; to change
  the offer, retire the plan (`active=False`) and create another.
- A wallet payment spends **cash first, then bonus**; its refund gives back **bonus first** (up to
  what that payment took from bonus), then cash. So a bonus never turns into cash.
- A top-up is refunded (`refund_top_up`, operators) only from cash the customer still has; the
  plan's bonus goes back with it in proportion (refunding half of a ¥500 plan takes back ¥25 of
  its ¥50 bonus). Bonus already spent cannot be taken back from the bonus account, so that part is
  taken from the customer's cash instead: the gateway pays back what was asked, never the bonus.
  The wallet is debited and the refund claimed in one transaction (a wallet payment racing for the
  same cash: one of them gets it); then the gateway is called with no lock held, once per key.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.db.models import F

from yuyue.core.audit import audit
from yuyue.core.controls import race_control
from yuyue.core.errors import DomainError

from . import ledger
from .gateways import get_gateway
from .models import AccountKind, Payment, PaymentPurpose, PaymentStatus, Refund, TopUpPlan


def bonus_account(customer_id: int):
    return ledger.account(AccountKind.CUSTOMER_BONUS, "user", customer_id)


def cash_account(customer_id: int):
    return ledger.account(AccountKind.CUSTOMER_CASH, "user", customer_id)


def active_plan(plan_id: int) -> TopUpPlan:
    if isinstance(plan_id, bool) or not isinstance(plan_id, int):
        raise DomainError("not_found")
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


def wallet_split(customer_id: int, due: int) -> tuple[int, int, int]:
    """(from cash, from bonus, short) for paying `due` from the wallet: cash first, then bonus,
    each no more than there is; `short` is what the wallet lacks (then it cannot pay)."""
    from_cash = min(due, max(0, cash_account(customer_id).available))
    rest = due - from_cash
    from_bonus = min(rest, max(0, bonus_account(customer_id).available)) if rest else 0
    return from_cash, from_bonus, rest - from_bonus


def refund_split(payment: Payment, amount: int) -> tuple[int, int]:
    """(to cash, to bonus) for refunding `amount` of a wallet payment: bonus first. Call with the
    payment as it was before this refund."""
    bonus_left = max(0, payment.bonus_fen - payment.refunded_fen)
    to_bonus = min(amount, bonus_left)
    return amount - to_bonus, to_bonus


# --- plans ----------------------------------------------------------------------------------------


def _require_operator(actor) -> None:
    if not getattr(actor, "is_operator", False):
        raise DomainError("forbidden")


def _fen(value, *, low: int = 0) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not low <= value <= ledger.MAX_AMOUNT
    ):
        raise DomainError("invalid_amount", max=ledger.MAX_AMOUNT)
    return value


def _name(name, what: str) -> str:
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 100:
        raise DomainError("invalid_input", f"A {what} needs a name of 1 to 100 characters.")
    return name.strip()


def create_plan(*, actor, name: str, pay_fen: int, bonus_fen: int) -> TopUpPlan:
    """Offer a plan: pay `pay_fen` (¥1 or more), get `bonus_fen` more (at most as much again)."""
    from .payments import MAX_TOP_UP

    _require_operator(actor)
    name = _name(name, "plan")
    if (
        isinstance(pay_fen, bool)
        or not isinstance(pay_fen, int)
        or not 100 <= pay_fen <= MAX_TOP_UP
    ):
        raise DomainError("invalid_amount", max=MAX_TOP_UP)
    _fen(bonus_fen)
    if bonus_fen > pay_fen:
        raise DomainError("invalid_amount", max=pay_fen)
    with transaction.atomic():
        plan = TopUpPlan.objects.create(name=name, pay_fen=pay_fen, bonus_fen=bonus_fen)
        audit(actor, "topup.plan_create", plan, pay_fen=pay_fen, bonus_fen=bonus_fen)
    return plan


def update_plan(
    *, actor, plan_id: int, name: str | None = None, active: bool | None = None
) -> TopUpPlan:
    """Rename a plan, retire it (no longer on offer; payments already started still get its
    bonus) or offer it again. Its amounts never change."""
    _require_operator(actor)
    plan = TopUpPlan.objects.filter(pk=plan_id).first()
    if plan is None:
        raise DomainError("not_found")
    fields = {}
    if name is not None:
        fields["name"] = _name(name, "plan")
    if active is not None:
        if not isinstance(active, bool):
            raise DomainError("invalid_input", "active is true or false.")
        fields["active"] = active
    if fields:
        with transaction.atomic():
            TopUpPlan.objects.filter(pk=plan.pk).update(**fields)
            audit(actor, "topup.plan_update", plan, **fields)
        plan.refresh_from_db()
    return plan


# --- refunding a top-up ---------------------------------------------------------------------------


def _bonus_back(payment: Payment, before: int, amount: int) -> int:
    """The plan's bonus going with a refund of `amount` of its price, `before` already refunded."""
    if payment.plan_id is None or not payment.plan.bonus_fen:
        return 0
    bonus, price = payment.plan.bonus_fen, payment.amount_fen
    return bonus * (before + amount) // price - bonus * before // price


def refund_top_up(*, actor, payment_id: int, amount_fen: int, key: str, reason: str = "") -> Refund:
    """Give back `amount_fen` of a top-up (or stored-value plan) to where it was paid from, once
    per key. Only cash the customer still has is paid back; the plan's bonus share is taken back
    from bonus, and what of it was already spent from cash — never paid out."""
    _require_operator(actor)
    ledger.check_amount(amount_fen)
    existing = Refund.objects.filter(key=key).first()
    if existing is not None:
        if existing.amount_fen != amount_fen or existing.payment_id != payment_id:
            raise DomainError("idempotency_key_reused")
        return _pay_back(existing)  # a retry: the gateway once more (it refunds once per key)
    payment = (
        Payment.objects.select_related("plan")
        .filter(pk=payment_id, purpose=PaymentPurpose.TOP_UP)
        .first()
        if isinstance(payment_id, int) and not isinstance(payment_id, bool)
        else None
    )
    if payment is None:
        raise DomainError("not_found")
    if payment.status != PaymentStatus.PAID:
        raise DomainError("nothing_to_refund")
    claim = _claim
    if naive := race_control("refund_top_up"):  # reads now, outside the transaction
        claim = naive(payment=payment)
    try:
        with transaction.atomic():
            record = Refund.objects.create(
                key=key, payment=payment, amount_fen=amount_fen, reason=reason[:200]
            )
            claim(payment, amount_fen)
            payment.refresh_from_db()
            before = payment.refunded_fen - amount_fen
            due_bonus = _bonus_back(payment, before, amount_fen)
            bonus = bonus_account(payment.customer_id)
            from_bonus = min(due_bonus, max(0, bonus.available))
            spent_bonus = due_bonus - from_bonus  # already spent: made good from cash
            legs = [
                (cash_account(payment.customer_id), -(amount_fen + spent_bonus)),
                (ledger.account(AccountKind.GATEWAY_CLEARING), amount_fen),
            ]
            if due_bonus:
                legs += [
                    (bonus, -from_bonus),
                    (ledger.account(AccountKind.PROMOTION_EXPENSE), due_bonus),
                ]
            ledger.post_transfer(
                key=f"refund:{key}", kind="top_up_refund", legs=[(a, n) for a, n in legs if n]
            )
            audit(
                actor,
                "topup.refund",
                payment,
                amount=amount_fen,
                bonus_back=from_bonus,
                bonus_spent=spent_bonus,
                key=key,
            )
    except IntegrityError:  # the same key at the same moment: the other one did it
        record = Refund.objects.filter(key=key).first()
        if record is None or record.amount_fen != amount_fen or record.payment_id != payment_id:
            raise
    # The money has left the wallet (committed); now the gateway, with no lock held.
    return _pay_back(record)


def _claim(payment: Payment, amount_fen: int) -> None:
    """Take `amount_fen` of what is left of the payment by a conditional UPDATE: two refunds
    racing for the last of it, one gets it."""
    if not Payment.objects.filter(
        pk=payment.pk, refunded_fen__lte=F("amount_fen") - amount_fen
    ).update(refunded_fen=F("refunded_fen") + amount_fen):
        raise DomainError("refund_exceeds_payment")


def _pay_back(record: Refund) -> Refund:
    if not record.gateway_refund_id:
        payment = record.payment
        refund_id = get_gateway(payment.gateway).refund(payment, record.amount_fen, record.key)
        Refund.objects.filter(pk=record.pk).update(gateway_refund_id=refund_id)
        record.refresh_from_db()
    return record
