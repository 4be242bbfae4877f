"""Alipay through `python-alipay-sdk` (RSA2): app and web payment strings, signed asynchronous
notifications, refunds, query and close.

Keys come from settings.YUYUE_ALIPAY (JSON in the environment variable of that name):

    {"platform": {"appid": "2021…", "app_private_key_path": "/etc/yuyue/alipay_app_key.pem",
                  "alipay_public_key_path": "/etc/yuyue/alipay_public_key.pem"},
     "merchants": {"12": {…a merchant's own Alipay app…}}}

(`app_private_key` / `alipay_public_key` may be given inline.) `api_base` points the client at
another gateway URL (Alipay's sandbox, or a private test server). Amounts cross the wire in yuan
with two decimals and are turned back into whole fen exactly.
"""

from __future__ import annotations

import hashlib
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl

from django.conf import settings

from yuyue.core.errors import DomainError

from .base import Notification, key_set_for, key_sets, pem

NAME = "alipay"
PAID_STATES = ("TRADE_SUCCESS", "TRADE_FINISHED")


def yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


def fen_of(amount: str) -> int:
    try:
        value = Decimal(str(amount)) * 100
    except InvalidOperation as exc:
        raise DomainError("bad_signature") from exc
    if value != value.to_integral_value():
        raise DomainError("amount_mismatch")
    return int(value)


def _configs() -> dict[str, dict]:
    return key_sets(settings.YUYUE_ALIPAY)


def _pem(cfg: dict, name: str) -> str:
    return pem(cfg, name, NAME)


def _client(cfg: dict):
    from alipay import AliPay

    try:
        client = AliPay(
            appid=cfg["appid"],
            app_notify_url=settings.YUYUE_PUBLIC_BASE_URL.rstrip("/")
            + "/api/payments/notify/alipay",
            app_private_key_string=_pem(cfg, "app_private_key"),
            alipay_public_key_string=_pem(cfg, "alipay_public_key"),
            sign_type="RSA2",
        )
    except KeyError as exc:
        raise DomainError("gateway_not_configured", gateway=NAME) from exc
    if cfg.get("api_base"):
        client._gateway = cfg["api_base"]  # the library takes only debug=True/False
    return client


def _request_no(key: str) -> str:
    return "yyr" + hashlib.sha256(key.encode()).hexdigest()[:32]


class AlipayGateway:
    name = NAME

    def _config_for(self, payment) -> dict:
        return key_set_for(_configs(), payment, NAME)

    def _server(self, call, **kwargs) -> dict:
        try:
            answer = call(**kwargs)
        except Exception as exc:  # transport, refusal or a response that fails verification
            raise DomainError("gateway_error", gateway=NAME) from exc
        if str(answer.get("code")) != "10000":
            raise DomainError("gateway_error", gateway=NAME)
        return answer

    def create(self, payment) -> dict:
        """The app's order string and the web checkout URL, both signed with our key."""
        client = _client(self._config_for(payment))
        subject = f"yuyue {payment.out_trade_no}"
        amount = yuan(payment.amount_fen)
        page = client.api_alipay_trade_page_pay(
            subject=subject, out_trade_no=payment.out_trade_no, total_amount=amount
        )
        return {
            "order_string": client.api_alipay_trade_app_pay(
                subject=subject, out_trade_no=payment.out_trade_no, total_amount=amount
            ),
            "pay_url": f"{client._gateway}?{page}",
        }

    def verify(self, headers: dict, body: bytes) -> Notification:
        data = dict(parse_qsl(body.decode(errors="replace"), keep_blank_values=True))
        signature = data.pop("sign", "")
        cfg = next((c for c in _configs().values() if c.get("appid") == data.get("app_id")), None)
        if cfg is None or not signature:
            raise DomainError("bad_signature")
        try:
            good = _client(cfg).verify(dict(data), signature)
        except DomainError:
            raise
        except Exception as exc:
            raise DomainError("bad_signature") from exc
        if not good:
            raise DomainError("bad_signature")
        try:
            return Notification(
                str(data["notify_id"]),
                str(data["out_trade_no"]),
                str(data.get("trade_no", "")),
                fen_of(data["total_amount"]),
                data.get("trade_status") in PAID_STATES,
            )
        except KeyError as exc:
            raise DomainError("bad_signature") from exc

    def refund(self, payment, amount_fen: int, key: str) -> str:
        """Refund once per key: Alipay keeps out_request_no unique for a trade."""
        client = _client(self._config_for(payment))
        number = _request_no(key)
        self._server(
            client.api_alipay_trade_refund,
            refund_amount=yuan(amount_fen),
            out_trade_no=payment.out_trade_no,
            out_request_no=number,
        )
        return number

    def query(self, payment) -> dict:
        client = _client(self._config_for(payment))
        answer = self._server(client.api_alipay_trade_query, out_trade_no=payment.out_trade_no)
        return {
            "state": answer.get("trade_status", ""),
            "txn_id": answer.get("trade_no", ""),
            "amount_fen": fen_of(answer["total_amount"]) if answer.get("total_amount") else None,
        }

    def close(self, payment) -> None:
        client = _client(self._config_for(payment))
        self._server(client.api_alipay_trade_close, out_trade_no=payment.out_trade_no)

    def statement(self, start, end) -> list[dict]:
        raise DomainError("statement_unavailable", gateway=NAME)
