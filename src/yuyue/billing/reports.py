"""Money reports: the daily reconciliation with a gateway, revenue by merchant and category.

Days are the platform's (YUYUE_DEFAULT_TIMEZONE, Asia/Shanghai): a day's records are those made
from its local midnight to the next. Every figure comes from the ledger or from the records the
money moved with, never from a counter that could drift.

Reconciliation of a day compares three things: the gateway's statement (its own book), our
payment, refund and payout records, and the ledger. A statement line must match one of our
records with the same reference and amount; one of our records of the day must appear in the
statement (of that day or the day on either side: a payment captured at 23:59:59 may be applied
at 00:00:01); and the ledger must balance (every transfer sums to zero, every account's balance is
the sum of its entries).
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from yuyue.accounts.auth import MANAGERS, require_staff
from yuyue.catalog.models import Category, Merchant
from yuyue.core.audit import audit
from yuyue.core.errors import DomainError
from yuyue.core.timeutil import zone

from . import ledger
from .gateways import get_gateway
from .models import (
    AccountKind,
    Entry,
    Hold,
    HoldStatus,
    LedgerAccount,
    Payment,
    PaymentStatus,
    ReconciliationRun,
    Refund,
    Transfer,
    Withdrawal,
    WithdrawalStatus,
)

MAX_DAYS = 366
# where a customer's money for an order comes from: the wallet (cash, bonus) or a gateway
PAYERS = (AccountKind.CUSTOMER_CASH, AccountKind.CUSTOMER_BONUS, AccountKind.GATEWAY_CLEARING)


def day_bounds(day: dt.date, days: int = 1) -> tuple[dt.datetime, dt.datetime]:
    tz = zone(settings.YUYUE_DEFAULT_TIMEZONE)
    start = dt.datetime.combine(day, dt.time(0), tzinfo=tz)
    return start, dt.datetime.combine(day + dt.timedelta(days=days), dt.time(0), tzinfo=tz)


def _require_operator(actor) -> None:
    if not getattr(actor, "is_operator", False):
        raise DomainError("forbidden")


# --- reconciliation ----------------------------------------------------------------------------


@dataclass
class _Ours:
    """One of our records that a gateway should have: a payment it captured, a refund it made,
    a payout it sent — with the ledger transfer that moved the money on our side."""

    kind: str  # payment, refund, payout
    reference: str  # the gateway's id for it ("" when we never stored one)
    out_trade_no: str
    amount_fen: int
    ledger_key: str
    ledger_account: str  # the outside account the transfer must move by `ledger_fen`
    ledger_fen: int


def _ours(gateway: str, start: dt.datetime, end: dt.datetime) -> list[_Ours]:
    out = []
    for p in Payment.objects.filter(
        gateway=gateway, status=PaymentStatus.PAID, paid_at__gte=start, paid_at__lt=end
    ):
        out.append(
            _Ours(
                "payment",
                p.gateway_txn_id,
                p.out_trade_no,
                p.amount_fen,
                f"payment:{p.pk}",
                AccountKind.GATEWAY_CLEARING,
                -p.amount_fen,
            )
        )
    for r in Refund.objects.filter(
        payment__gateway=gateway, created_at__gte=start, created_at__lt=end
    ).select_related("payment"):
        out.append(
            _Ours(
                "refund",
                r.gateway_refund_id,
                r.payment.out_trade_no,
                r.amount_fen,
                f"refund:{r.key}",
                AccountKind.GATEWAY_CLEARING,
                r.amount_fen,
            )
        )
    # A payment that came after its order was gone is refunded without a Refund row
    # (payments.refund_late_payment): its ledger transfer is our record of it.
    late = list(
        Transfer.objects.filter(
            key__startswith="refund:late:", created_at__gte=start, created_at__lt=end
        )
    )
    numbers = {
        f"refund:late:{pk}": (no, amount)
        for pk, no, amount in Payment.objects.filter(
            gateway=gateway, pk__in=[int(t.key.rsplit(":", 1)[1]) for t in late]
        ).values_list("pk", "out_trade_no", "amount_fen")
    }
    for t in late:
        if t.key in numbers:
            no, amount = numbers[t.key]
            out.append(_Ours("refund", "", no, amount, t.key, AccountKind.GATEWAY_CLEARING, amount))
    if gateway == "sandbox":  # payouts go through the sandbox (settlement.approve_withdrawal)
        for w in Withdrawal.objects.filter(
            status=WithdrawalStatus.PAID, decided_at__gte=start, decided_at__lt=end
        ).select_related("hold"):
            out.append(
                _Ours(
                    "payout",
                    w.payout_id,
                    "",
                    w.amount_fen,
                    f"hold:{w.hold.key}",
                    AccountKind.PAYOUT_CLEARING,
                    w.amount_fen,
                )
            )
    return out


def _ledger_of(records: list[_Ours]) -> list[dict]:
    """Each record's transfer must be in the ledger and move the outside account by its
    amount: a payment marked paid without its posting, or posted for another sum, shows."""
    moved: dict[str, dict[str, int]] = defaultdict(dict)
    for key, kind, amount in Entry.objects.filter(
        transfer__key__in=[r.ledger_key for r in records]
    ).values_list("transfer__key", "account__kind", "amount"):
        moved[key][kind] = moved[key].get(kind, 0) + amount
    problems = []
    for r in records:
        if r.ledger_key not in moved:
            problems.append({"type": "missing_in_ledger", **_plain(r), "ledger_key": r.ledger_key})
        elif moved[r.ledger_key].get(r.ledger_account, 0) != r.ledger_fen:
            problems.append(
                {
                    "type": "ledger_mismatch",
                    **_plain(r),
                    "ledger_key": r.ledger_key,
                    "ours_fen": abs(moved[r.ledger_key].get(r.ledger_account, 0)),
                }
            )
    return problems


def _ledger_problems() -> list[dict]:
    problems = [
        {"type": "unbalanced_transfer", "transfer": pk} for pk in ledger.unbalanced_transfers()
    ]
    sums = dict(
        Entry.objects.values("account_id").annotate(n=Sum("amount")).values_list("account_id", "n")
    )
    held = dict(
        Hold.objects.filter(status=HoldStatus.PENDING)
        .values("account_id")
        .annotate(n=Sum("amount"))
        .values_list("account_id", "n")
    )
    for acc in LedgerAccount.objects.all():
        if acc.balance != (sums.get(acc.pk) or 0):
            problems.append(
                {
                    "type": "balance_drift",
                    "account": acc.code,
                    "balance_fen": acc.balance,
                    "entries_fen": sums.get(acc.pk) or 0,
                }
            )
        if acc.held != (held.get(acc.pk) or 0):
            problems.append(
                {
                    "type": "held_drift",
                    "account": acc.code,
                    "balance_fen": acc.held,
                    "entries_fen": held.get(acc.pk) or 0,
                }
            )
    return problems


def reconcile(*, day: dt.date, gateway: str = "sandbox", actor=None) -> ReconciliationRun:
    """Reconcile one day; a second run of the same day replaces the first.

    A statement line matches our record with its reference (or, for a refund we hold no
    gateway id for, the same order number and amount); kinds and amounts must agree. Each of
    our records of the day must be in the statement of the day or the days around it, and in
    the ledger with its amount. Then the ledger's own invariants."""
    if actor is not None:
        _require_operator(actor)
    start, end = day_bounds(day)
    gw = get_gateway(gateway)
    statement = gw.statement(start, end)
    wide = gw.statement(start - dt.timedelta(days=1), end + dt.timedelta(days=1))
    around = _ours(gateway, start - dt.timedelta(days=1), end + dt.timedelta(days=1))
    today = _ours(gateway, start, end)
    by_ref = {r.reference: r for r in around if r.reference}
    unnamed = [r for r in around if not r.reference]

    problems: list[dict] = []
    matched = 0
    seen: set[str] = set()
    for line in statement:
        ref = line["reference"]
        if ref in seen:
            problems.append({"type": "duplicate_at_gateway", **_plain(line)})
            continue
        seen.add(ref)
        ours = by_ref.get(ref)
        if ours is None and line["kind"] == "refund":
            ours = _take(unnamed, line["out_trade_no"], line["amount_fen"])
        if ours is None:
            problems.append({"type": "missing_here", **_plain(line)})
        elif ours.kind != line["kind"]:
            problems.append({"type": "kind_mismatch", **_plain(line), "ours_kind": ours.kind})
        elif ours.amount_fen != line["amount_fen"]:
            problems.append(
                {"type": "amount_mismatch", **_plain(line), "ours_fen": ours.amount_fen}
            )
        else:
            matched += 1
    refs = {line["reference"] for line in wide}
    unclaimed = [line for line in wide if line["reference"] not in by_ref]
    for r in today:
        if not r.reference:
            if r.kind == "refund" and _take(unclaimed, r.out_trade_no, r.amount_fen):
                continue
        elif r.reference in refs:
            continue
        problems.append({"type": "missing_at_gateway", **_plain(r)})
    problems += _ledger_of(today)
    problems += _ledger_problems()
    with transaction.atomic():
        run, _ = ReconciliationRun.objects.update_or_create(
            gateway=gateway,
            day=day,
            defaults={
                "ran_at": timezone.now(),
                "matched": matched,
                "discrepancies": problems,
                "ok": not problems,
            },
        )
        audit(actor, "reconciliation.run", run, day=day.isoformat(), problems=len(problems))
    return run


def _take(pool: list, out_trade_no: str, amount_fen: int):
    """Remove and return the refund in `pool` (our records or statement lines) for that order
    number and amount: how a refund we hold no gateway id for is matched."""
    for i, item in enumerate(pool):
        item = _plain(item)
        if item["kind"] == "refund" and (item["out_trade_no"], item["amount_fen"]) == (
            out_trade_no,
            amount_fen,
        ):
            return pool.pop(i)
    return None


def _plain(line) -> dict:
    if isinstance(line, _Ours):
        line = {
            "kind": line.kind,
            "reference": line.reference,
            "out_trade_no": line.out_trade_no,
            "amount_fen": line.amount_fen,
        }
    return {
        "kind": line["kind"],
        "reference": line["reference"],
        "out_trade_no": line["out_trade_no"],
        "amount_fen": line["amount_fen"],
    }


def reconcile_yesterday() -> list[ReconciliationRun]:
    """Yesterday, with the sandbox and every gateway that has keys here."""
    today = timezone.now().astimezone(zone(settings.YUYUE_DEFAULT_TIMEZONE)).date()
    gateways = ["sandbox"]
    gateways += ["wechat"] if settings.YUYUE_WECHATPAY else []
    gateways += ["alipay"] if settings.YUYUE_ALIPAY else []
    return [reconcile(day=today - dt.timedelta(days=1), gateway=g) for g in gateways]


# --- revenue -------------------------------------------------------------------------------------

COLUMNS = [
    ("orders", "Orders 订单数"),
    ("paid_fen", "Paid in 收款"),
    ("discounts_fen", "Discounts 平台补贴"),
    ("refunds_fen", "Refunds 退款"),
    ("commission_fen", "Commission 平台佣金"),
    ("merchant_fen", "Merchant share 商家分成"),
    ("provider_fen", "Provider share 服务人员分成"),
]


def revenue(*, actor, date_from: dt.date, date_to: dt.date, merchant_id: int | None = None) -> dict:
    """Per merchant and category over [date_from, date_to] — days in the platform's zone
    (YUYUE_DEFAULT_TIMEZONE), the same for every merchant so that rows add up — read from ledger
    entries posted in that period: orders with money in, paid in (by the customers' wallets or a
    gateway), discounts (funded by promotion, net of the share refunds gave back), refunds (back to
    the customers), and the split booked at settlement or as kept fees. Money that came in and
    was not refunded nor split yet is still in escrow: paid + discounts - refunds - commission -
    merchant - provider. Operators see all merchants (or one); a merchant's owner or manager only
    their own."""
    if isinstance(date_from, dt.date) and isinstance(date_to, dt.date) and date_to < date_from:
        raise DomainError("invalid_input", "date_to is before date_from.")
    if (date_to - date_from).days >= MAX_DAYS:
        raise DomainError("invalid_input", f"At most {MAX_DAYS} days at once.")
    if not getattr(actor, "is_operator", False):
        if merchant_id is None:
            raise DomainError("forbidden")
        require_staff(actor, merchant_id, MANAGERS)
    start, end = day_bounds(date_from, (date_to - date_from).days + 1)
    entries = Entry.objects.filter(
        transfer__created_at__gte=start,
        transfer__created_at__lt=end,
        transfer__booking__isnull=False,
    )
    if merchant_id is not None:
        entries = entries.filter(transfer__booking__merchant_id=merchant_id)
    rows = entries.values_list(
        "transfer__booking__merchant_id",
        "transfer__booking__service__category_id",
        "transfer__booking_id",
        "transfer__kind",
        "account__kind",
        "amount",
    )
    table: dict[tuple, dict] = defaultdict(lambda: defaultdict(int))
    orders: dict[tuple, set] = defaultdict(set)
    for merchant, category, booking, kind, account, amount in rows.iterator():
        cell = table[(merchant, category)]
        if account == AccountKind.ORDER_ESCROW:
            if amount > 0 and kind != "refund":
                orders[(merchant, category)].add(booking)
        elif account == AccountKind.PROMOTION_EXPENSE:
            cell["discounts_fen"] += -amount  # net: a refund gives the discounts' share back
        elif account == AccountKind.PLATFORM_REVENUE:
            cell["commission_fen"] += amount
        elif account == AccountKind.MERCHANT_SHARE:
            cell["merchant_fen"] += amount
        elif account == AccountKind.PROVIDER_FROZEN and amount > 0:
            cell["provider_fen"] += amount  # settled, or kept for a no-show the provider came to
        elif account in PAYERS:
            if amount < 0:
                cell["paid_fen"] += -amount
            elif kind == "refund":
                cell["refunds_fen"] += amount  # what went back to the customer
    merchants = dict(Merchant.objects.values_list("pk", "name"))
    categories = dict(Category.objects.values_list("pk", "name"))
    out_rows = []
    totals = {key: 0 for key, _ in COLUMNS}
    for (merchant, category), cell in sorted(
        table.items(), key=lambda kv: (merchants.get(kv[0][0], ""), categories.get(kv[0][1], ""))
    ):
        row = {
            "merchant_id": merchant,
            "merchant": merchants.get(merchant, ""),
            "category_id": category,
            "category": categories.get(category, ""),
            "orders": len(orders[(merchant, category)]),
            **{key: cell[key] for key, _ in COLUMNS if key != "orders"},
        }
        out_rows.append(row)
        for key, _ in COLUMNS:
            totals[key] += row[key]
    return {
        "date_from": date_from,
        "date_to": date_to,
        "timezone": settings.YUYUE_DEFAULT_TIMEZONE,
        "rows": out_rows,
        "totals": totals,
    }


# --- Excel ------------------------------------------------------------------------------


def _workbook(title: str, header: list[str], rows: list[list], money_columns: set[int]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    from yuyue.core.sheets import append_row

    wb = Workbook()
    ws = wb.active
    ws.title = title
    append_row(ws, header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        append_row(ws, row)
    for col in money_columns:
        for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col):
            cell.number_format = "#,##0.00"
    for i, name in enumerate(header, start=1):
        ws.column_dimensions[ws.cell(1, i).column_letter].width = max(12, len(name) + 4)
    ws.freeze_panes = "A2"
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def revenue_xlsx(report: dict) -> bytes:
    """The revenue report as a sheet; fen shown as yuan with two decimals."""
    header = ["Merchant 商家", "Category 类目"] + [label for _, label in COLUMNS]
    rows = []
    for row in [*report["rows"], {"merchant": "Total 合计", "category": "", **report["totals"]}]:
        rows.append(
            [row["merchant"], row["category"], row["orders"]]
            + [row[key] / 100 for key, _ in COLUMNS if key != "orders"]
        )
    return _workbook("Revenue 收入", header, rows, money_columns=set(range(4, 3 + len(COLUMNS))))


def reconciliation_xlsx(run: ReconciliationRun) -> bytes:
    header = [
        "Type 类型",
        "Kind 业务",
        "Reference 流水号",
        "Order no. 订单号",
        "Amount 金额",
        "Ours 本方",
    ]
    rows = [
        [
            p.get("type", ""),
            p.get("kind", ""),
            p.get("reference", p.get("account", p.get("transfer", ""))),
            p.get("out_trade_no", ""),
            p.get("amount_fen", p.get("balance_fen", 0)) / 100,
            (p.get("ours_fen", p.get("entries_fen")) or 0) / 100,
        ]
        for p in run.discrepancies
    ]
    return _workbook(f"{run.day}", header, rows, money_columns={5, 6})
