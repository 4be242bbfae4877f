"""WeChat Pay API v3 through `wechatpayv3`: mini-program (JSAPI) prepay, signed and encrypted
notifications, refunds, query and close.

Keys come from settings.YUYUE_WECHATPAY (JSON in the environment variable of that name):

    {"platform": {"mchid": "1230000109", "appid": "wx…", "cert_serial_no": "444F…",
                  "private_key_path": "/etc/yuyue/apiclient_key.pem", "apiv3_key": "32 bytes…",
                  "public_key_path": "/etc/yuyue/pub_key.pem", "public_key_id": "PUB_KEY_ID_…"},
     "merchants": {"12": {…the same keys, for a merchant with its own WeChat Pay account…}}}

(`private_key` / `public_key` may be given inline instead of a path.) We use WeChat Pay's platform
public key (公钥模式), so no certificate download is needed. An order of a merchant with its own
keys is paid to that merchant's account; everything else to the platform's. A notification is
checked with the keys its `Wechatpay-Serial` names. `api_base` points the client at another host
(a private test server; WeChat Pay has no public sandbox for API v3).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import json
import secrets
import time

from django.conf import settings

from yuyue.core.errors import DomainError

from .base import Notification, check_account, key_set_for, key_sets, pem, refund_number

NAME = "wechat"
FRESH_SECONDS = 300  # a notification signed longer ago than this is a replay (WeChat's SDKs: 5 min)


def _configs() -> dict[str, dict]:
    return key_sets(settings.YUYUE_WECHATPAY)


def _pem(cfg: dict, name: str) -> str:
    return pem(cfg, name, NAME)


def _client(cfg: dict):
    from wechatpayv3 import WeChatPay, WeChatPayType

    try:
        client = WeChatPay(
            wechatpay_type=WeChatPayType.MINIPROG,
            mchid=cfg["mchid"],
            private_key=_pem(cfg, "private_key"),
            cert_serial_no=cfg["cert_serial_no"],
            appid=cfg["appid"],
            apiv3_key=cfg["apiv3_key"],
            notify_url=settings.YUYUE_PUBLIC_BASE_URL.rstrip("/") + "/api/payments/notify/wechat",
            public_key=_pem(cfg, "public_key"),
            public_key_id=cfg["public_key_id"],
            timeout=(5, 15),
        )
    except KeyError as exc:
        raise DomainError("gateway_not_configured", gateway=NAME) from exc
    if cfg.get("api_base"):
        client._core._gate_way = cfg["api_base"].rstrip("/")  # the library has no setting for it
    return client


class WeChatPayGateway:
    name = NAME

    def _config_for(self, payment) -> dict:
        return key_set_for(_configs(), payment, NAME)

    def _call(self, result) -> dict:
        try:
            code, message = result
        except Exception as exc:  # the library raises on transport and signature errors
            raise DomainError("gateway_error", gateway=NAME) from exc
        if not 200 <= code < 300:
            raise DomainError("gateway_error", gateway=NAME)
        if isinstance(message, bytes | bytearray) or not message:
            return {}
        return json.loads(message)

    def check(self, payment) -> None:
        self._config_for(payment)
        if not payment.customer.wx_openid:
            raise DomainError("wechat_login_required")

    def create(self, payment) -> dict:
        """Prepay for a mini-program; returns what `wx.requestPayment` needs, signed."""
        self.check(payment)
        openid = payment.customer.wx_openid
        cfg = self._config_for(payment)
        client = _client(cfg)
        try:
            answer = self._call(
                client.pay(
                    description=f"yuyue {payment.out_trade_no}",
                    out_trade_no=payment.out_trade_no,
                    amount={"total": payment.amount_fen, "currency": "CNY"},
                    payer={"openid": openid},
                )
            )
        except DomainError:
            raise
        except Exception as exc:
            raise DomainError("gateway_error", gateway=NAME) from exc
        package = f"prepay_id={answer['prepay_id']}"
        stamp, nonce = str(int(time.time())), secrets.token_hex(16)
        return {
            "appId": cfg["appid"],
            "timeStamp": stamp,
            "nonceStr": nonce,
            "package": package,
            "signType": "RSA",
            "paySign": client.sign([cfg["appid"], stamp, nonce, package]),
        }

    def verify(self, headers: dict, body: bytes) -> Notification:
        """A payment's outcome (TRANSACTION.*) or a refund's (REFUND.*): signed by WeChat Pay
        with the key its Wechatpay-Serial names, within five minutes, its resource sealed with
        that account's APIv3 key, about a trade of that account."""
        lowered = {k.lower(): v for k, v in headers.items()}
        serial = lowered.get("wechatpay-serial", "")
        cfg = next((c for c in _configs().values() if c.get("public_key_id") == serial), None)
        if cfg is None:
            raise DomainError("bad_signature")
        try:
            sent = int(lowered.get("wechatpay-timestamp", ""))
        except ValueError as exc:
            raise DomainError("bad_signature") from exc
        if abs(time.time() - sent) >= FRESH_SECONDS:
            raise DomainError("bad_signature")
        try:
            data = _client(cfg).callback(headers, body)
        except DomainError:
            raise
        except Exception as exc:
            raise DomainError("bad_signature") from exc
        if not data:  # a wrong signature or a resource that does not decrypt
            raise DomainError("bad_signature")
        try:
            resource = data["resource"]
            if resource.get("mchid", cfg["mchid"]) != cfg["mchid"]:
                raise DomainError("bad_signature")
            if str(data.get("event_type", "")).startswith("REFUND."):
                note = Notification(
                    str(data["id"]),
                    str(resource["out_trade_no"]),
                    str(resource.get("refund_id", "")),
                    int(resource["amount"]["refund"]),
                    resource.get("refund_status") == "SUCCESS",
                    kind="refund",
                    refund_no=str(resource["out_refund_no"]),
                    state=str(resource.get("refund_status", "")),
                )
            else:
                if resource.get("appid", cfg["appid"]) != cfg["appid"]:
                    raise DomainError("bad_signature")
                note = Notification(
                    str(data["id"]),
                    str(resource["out_trade_no"]),
                    str(resource.get("transaction_id", "")),
                    int(resource["amount"]["total"]),
                    resource.get("trade_state") == "SUCCESS",
                    state=str(resource.get("trade_state", "")),
                )
        except (KeyError, TypeError, ValueError) as exc:
            raise DomainError("bad_signature") from exc
        check_account(_configs(), note.out_trade_no, NAME, cfg, "mchid")
        return note

    def refund(self, payment, amount_fen: int, key: str) -> str:
        """Refund once per key: WeChat keeps out_refund_no unique, a retry returns the same."""
        client = _client(self._config_for(payment))
        answer = self._call(
            client.refund(
                out_refund_no=refund_number(key),
                amount={"refund": amount_fen, "total": payment.amount_fen, "currency": "CNY"},
                out_trade_no=payment.out_trade_no,
            )
        )
        return str(answer.get("refund_id", refund_number(key)))

    def query(self, payment) -> dict:
        client = _client(self._config_for(payment))
        answer = self._call(client.query(out_trade_no=payment.out_trade_no))
        return {
            "state": answer.get("trade_state", ""),
            "txn_id": answer.get("transaction_id", ""),
            "amount_fen": (answer.get("amount") or {}).get("total"),
        }

    def close(self, payment) -> None:
        client = _client(self._config_for(payment))
        self._call(client.close(out_trade_no=payment.out_trade_no))

    def statement(self, start, end) -> list[dict]:
        """Payments and refunds from WeChat Pay's trade bills (one per day, China time) of every
        configured account, for the days [start, end) covers. A bill not yet out (the day is not
        over, or WeChat has not made it) contributes nothing."""
        from yuyue.core.timeutil import zone

        tz = zone("Asia/Shanghai")
        day, last = (
            start.astimezone(tz).date(),
            (end - dt.timedelta(microseconds=1)).astimezone(tz).date(),
        )
        lines: list[dict] = []
        while day <= last:
            for cfg in _configs().values():
                lines += _bill_lines(_client(cfg), day)
            day += dt.timedelta(days=1)
        return [line for line in lines if start <= line["at"] < end]


def _bill_lines(client, day) -> list[dict]:
    code, message = client.trade_bill(bill_date=day.isoformat(), tar_type="GZIP")
    if code != 200:
        return []  # e.g. 400 NO_STATEMENT_EXIST: nothing for that day (yet)
    url = json.loads(message)["download_url"]
    code, content = client.download_bill(url)
    if code != 200:
        raise DomainError("gateway_error", gateway=NAME)
    raw = content if isinstance(content, bytes | bytearray) else str(content).encode()
    if raw[:2] == b"\x1f\x8b":  # gzip
        raw = gzip.decompress(raw)
    return parse_trade_bill(raw.decode("utf-8-sig"))


def parse_trade_bill(text: str) -> list[dict]:
    """WeChat Pay's trade bill: a header row, one row per payment or refund (every field prefixed
    with a backtick), then summary rows. Amounts in yuan."""
    from yuyue.core.timeutil import zone

    from .alipay import fen_of

    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        return []
    header = [h.strip() for h in rows[0]]
    col = {name: i for i, name in enumerate(header)}
    lines = []
    for row in rows[1:]:
        if not row or not row[0].startswith("`"):
            break  # the summary starts
        value = {name: row[i].lstrip("`").strip() for name, i in col.items() if i < len(row)}
        at = dt.datetime.fromisoformat(value["交易时间"]).replace(tzinfo=zone("Asia/Shanghai"))
        if value.get("交易状态") == "REFUND":
            lines.append(
                {
                    "kind": "refund",
                    "reference": value["微信退款单号"],
                    "out_trade_no": value["商户订单号"],
                    "amount_fen": fen_of(value["退款金额"]),
                    "at": at,
                }
            )
        elif value.get("交易状态") == "SUCCESS":
            lines.append(
                {
                    "kind": "payment",
                    "reference": value["微信订单号"],
                    "out_trade_no": value["商户订单号"],
                    "amount_fen": fen_of(value["订单金额"]),
                    "at": at,
                }
            )
    return lines
