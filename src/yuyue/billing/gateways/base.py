from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Notification:
    """A verified asynchronous notification from a gateway."""

    notification_id: str
    out_trade_no: str
    txn_id: str
    amount_fen: int
    success: bool


class Gateway(Protocol):
    name: str

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

    merchant_id = str(payment.booking.merchant_id) if payment.booking_id else ""
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
