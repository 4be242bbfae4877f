"""The development gateway: behaves like a real one. `create` returns a checkout URL; paying
there makes the worker POST a signed notification (HMAC-SHA256 over the body) to our notify URL
over real HTTP. Amounts ending in 13 fen are declined; so are checkouts with decline=1."""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets

from django.conf import settings

from yuyue.core.errors import DomainError

from .base import Notification

SIGNATURE_HEADER = "X-Sandbox-Signature"


def sign(body: bytes) -> str:
    return hmac.new(settings.YUYUE_SANDBOX_SECRET.encode(), body, hashlib.sha256).hexdigest()


class SandboxGateway:
    name = "sandbox"

    def check(self, payment) -> None:
        """The sandbox takes every payment."""

    def create(self, payment) -> dict:
        return {
            "checkout_url": f"/api/payments/sandbox/checkout/{payment.out_trade_no}",
            "out_trade_no": payment.out_trade_no,
            "amount_fen": payment.amount_fen,
        }

    def notification_body(self, payment, *, decline: bool = False) -> bytes:
        """The sandbox captures the payment (once per order number, in its own book) and
        writes the notification it will send."""
        success = not decline and payment.amount_fen % 100 != 13
        txn = "sbt_" + hashlib.sha256(payment.out_trade_no.encode()).hexdigest()[:16]
        if success:
            _book("payment", txn, payment.amount_fen, payment.out_trade_no)
        return json.dumps(
            {
                "id": "sbn_" + secrets.token_hex(8),
                "out_trade_no": payment.out_trade_no,
                "transaction_id": txn,
                "amount": payment.amount_fen,
                "trade_state": "SUCCESS" if success else "PAYERROR",
            }
        ).encode()

    def verify(self, headers: dict, body: bytes) -> Notification:
        given = headers.get(SIGNATURE_HEADER) or ""
        if not hmac.compare_digest(given, sign(body)):
            raise DomainError("bad_signature")
        try:
            data = json.loads(body)
            return Notification(
                str(data["id"]),
                str(data["out_trade_no"]),
                str(data["transaction_id"]),
                int(data["amount"]),
                data["trade_state"] == "SUCCESS",
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise DomainError("bad_signature") from exc

    def refund(self, payment, amount_fen: int, key: str) -> str:
        """Refund once per key (the same key gives the same refund id and refunds nothing more)."""
        refund_id = "sbr_" + hashlib.sha256(key.encode()).hexdigest()[:16]
        _book("refund", refund_id, amount_fen, payment.out_trade_no)
        return refund_id

    def payout(self, provider, amount_fen: int, key: str) -> str:
        """Send money to a provider; the same key always gives the same payout id."""
        payout_id = "sbp_" + hashlib.sha256(key.encode()).hexdigest()[:16]
        _book("payout", payout_id, amount_fen, "")
        return payout_id

    def query(self, payment) -> dict:
        from ..models import SandboxTransaction

        line = SandboxTransaction.objects.filter(
            kind="payment", out_trade_no=payment.out_trade_no
        ).first()
        return {
            "state": "SUCCESS" if line else "NOTPAY",
            "txn_id": line.reference if line else "",
            "amount_fen": line.amount_fen if line else None,
        }

    def close(self, payment) -> None:
        """Nothing to do: an unpaid sandbox checkout simply never notifies."""

    def statement(self, start, end) -> list[dict]:
        """What the sandbox processed in [start, end): its own book, like a downloaded bill."""
        from ..models import SandboxTransaction

        return [
            {
                "kind": t.kind,
                "reference": t.reference,
                "out_trade_no": t.out_trade_no,
                "amount_fen": t.amount_fen,
                "at": t.at,
            }
            for t in SandboxTransaction.objects.filter(at__gte=start, at__lt=end).order_by("at")
        ]


def _book(kind: str, reference: str, amount_fen: int, out_trade_no: str) -> None:
    """The sandbox's own record, written once per reference (as a real gateway's would be)."""
    from django.utils import timezone

    from ..models import SandboxTransaction

    SandboxTransaction.objects.get_or_create(
        reference=reference,
        defaults={
            "kind": kind,
            "amount_fen": amount_fen,
            "out_trade_no": out_trade_no,
            "at": timezone.now(),
        },
    )
