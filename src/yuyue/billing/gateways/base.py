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
