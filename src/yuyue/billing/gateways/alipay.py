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

import csv
import datetime as dt
import io
import zipfile
from decimal import Decimal, InvalidOperation
from urllib.parse import parse_qsl

from django.conf import settings

from yuyue.core.errors import DomainError

from .base import Notification, check_account, key_set_for, key_sets, pem, refund_number

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

    def check(self, payment) -> None:
        self._config_for(payment)

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
            note = Notification(
                str(data["notify_id"]),
                str(data["out_trade_no"]),
                str(data.get("trade_no", "")),
                fen_of(data["total_amount"]),
                data.get("trade_status") in PAID_STATES,
                state=str(data.get("trade_status", "")),
            )
        except KeyError as exc:
            raise DomainError("bad_signature") from exc
        check_account(_configs(), note.out_trade_no, NAME, cfg, "appid")
        return note

    def refund(self, payment, amount_fen: int, key: str) -> str:
        """Refund once per key: Alipay keeps out_request_no unique for a trade."""
        client = _client(self._config_for(payment))
        number = refund_number(key)
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
        """Payments and refunds from Alipay's daily trade bills (a zip of GBK CSV files) of every
        configured app, for the days [start, end) covers; a bill not yet out gives nothing."""
        from yuyue.core.timeutil import zone

        tz = zone("Asia/Shanghai")
        day = start.astimezone(tz).date()
        last = (end - dt.timedelta(microseconds=1)).astimezone(tz).date()
        lines: list[dict] = []
        while day <= last:
            for cfg in _configs().values():
                lines += _bill_lines(_client(cfg), day)
            day += dt.timedelta(days=1)
        return [line for line in lines if start <= line["at"] < end]


def _bill_lines(client, day) -> list[dict]:
    from urllib.request import urlopen

    try:
        answer = client.server_api(
            "alipay.data.dataservice.bill.downloadurl.query",
            biz_content={"bill_type": "trade", "bill_date": day.isoformat()},
        )
    except Exception:
        return []  # e.g. bill not ready (isp.bill_not_exist)
    if str(answer.get("code")) != "10000" or not answer.get("bill_download_url"):
        return []
    with urlopen(answer["bill_download_url"], timeout=30) as response:  # noqa: S310 (Alipay's URL)
        archive = zipfile.ZipFile(io.BytesIO(response.read()))
    lines: list[dict] = []
    for name in archive.namelist():
        if "汇总" in name:  # the summary file: the details are in the other
            continue
        lines += parse_trade_bill(archive.read(name).decode("gbk"))
    return lines


def parse_trade_bill(text: str) -> list[dict]:
    """Alipay's trade detail CSV: '#' comment lines, a header row, one row per trade or refund
    (refunds negative), then '#' summary lines."""
    from yuyue.core.timeutil import zone

    rows = [r for r in csv.reader(io.StringIO(text)) if r and not r[0].startswith("#")]
    if not rows:
        return []
    col = {name.strip(): i for i, name in enumerate(rows[0])}
    lines = []
    for row in rows[1:]:
        value = {name: row[i].strip() for name, i in col.items() if i < len(row)}
        if not value.get("支付宝交易号"):
            continue
        at = dt.datetime.fromisoformat(value["完成时间"]).replace(tzinfo=zone("Asia/Shanghai"))
        amount = fen_of(value["订单金额（元）"])
        if value.get("业务类型") == "退款":
            lines.append(
                {
                    "kind": "refund",
                    "reference": value["退款批次号/请求号"],
                    "out_trade_no": value["商户订单号"],
                    "amount_fen": -amount if amount < 0 else amount,
                    "at": at,
                }
            )
        else:
            lines.append(
                {
                    "kind": "payment",
                    "reference": value["支付宝交易号"],
                    "out_trade_no": value["商户订单号"],
                    "amount_fen": amount,
                    "at": at,
                }
            )
    return lines
