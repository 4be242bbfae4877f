from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Notification:
    """A verified asynchronous notification from a gateway."""

    notification_id: str
    out_trade_no: str
    txn_id: str  # the gateway's payment id (for a refund notice: its refund id)
    amount_fen: int  # paid (for a refund notice: refunded by that refund)
    success: bool
    kind: str = "payment"  # or "refund": how a refund we asked for ended
    refund_no: str = ""  # a refund notice's refund number (ours: see refund_number)
    state: str = ""  # the gateway's word for the outcome (SUCCESS, ABNORMAL, CLOSED…)


class Gateway(Protocol):
    name: str

    def check(self, payment) -> None:
        """Refuse, before the payment is written, what `create` would refuse for it (keys not
        set, a customer the gateway cannot charge): a refusal leaves no row behind."""

    def create(self, payment) -> dict:
        """Parameters the client needs to pay (a prepay id, a checkout URL…)."""

    def verify(self, headers: dict, body: bytes) -> Notification:
        """Check the signature and read the notification; DomainError('bad_signature')."""

    def refund(self, payment, amount_fen: int, key: str) -> str:
        """Refund (idempotent by key); returns the gateway's refund id."""

    def query(self, payment) -> dict:
        """The gateway's view of a payment: {"state": …, "txn_id": …, "amount_fen": …}."""

    def close(self, payment) -> None:
        """Close an unpaid payment so that it can no longer be paid."""

    def statement(self, start, end) -> list[dict]:
        """The gateway's own lines for [start, end): kind (payment, refund, payout), reference
        (its id), out_trade_no, amount_fen, at — what reconciliation compares with our records."""


def key_sets(raw: dict | None) -> dict[str, dict]:
    """A gateway's key sets from its setting: "" for the platform's, the merchant id (as text)
    for a merchant's own account."""
    raw = raw or {}
    out = {"": raw["platform"]} if raw.get("platform") else {}
    for merchant_id, cfg in (raw.get("merchants") or {}).items():
        out[str(merchant_id)] = cfg
    return out


def key_set_for(sets: dict[str, dict], payment, gateway: str) -> dict:
    """The keys a payment is made with: its order's merchant's own, else the platform's."""
    from yuyue.core.errors import DomainError

    if payment.booking_id:
        merchant_id = str(payment.booking.merchant_id)
    elif payment.series_id:  # a package: its service's merchant
        merchant_id = str(payment.series.service.merchant_id)
    else:
        merchant_id = ""
    cfg = sets.get(merchant_id) or sets.get("")
    if cfg is None:
        raise DomainError("gateway_not_configured", gateway=gateway)
    return cfg


def pem(cfg: dict, name: str, gateway: str) -> str:
    """A key given inline (`name`) or as a file (`name_path`)."""
    from pathlib import Path

    from yuyue.core.errors import DomainError

    if cfg.get(name):
        return cfg[name]
    path = cfg.get(f"{name}_path")
    if not path:
        raise DomainError("gateway_not_configured", gateway=gateway)
    return Path(path).read_text()


def refund_number(key: str) -> str:
    """The refund number we give a gateway for a refund key (WeChat's out_refund_no, Alipay's
    out_request_no): the same key, the same number, so a retried refund is not made twice. At
    most 64 characters of [0-9a-zA-Z_-|*@] for WeChat."""
    import hashlib

    return "yyr" + hashlib.sha256(key.encode()).hexdigest()[:32]


def check_account(sets: dict[str, dict], out_trade_no: str, gateway: str, cfg: dict, field: str):
    """A verified notification about one of our payments must come from the account that
    payment was made with (the merchant's own, or the platform's): an account can only vouch
    for its own trades."""
    from yuyue.core.errors import DomainError

    from ..models import Payment

    payment = (
        Payment.objects.select_related("booking")
        .filter(out_trade_no=out_trade_no, gateway=gateway)
        .first()
    )
    if payment is None:
        return  # unknown: refused when applied
    if key_set_for(sets, payment, gateway).get(field) != cfg.get(field):
        raise DomainError("bad_signature")
