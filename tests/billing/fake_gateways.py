"""Local stand-ins for WeChat Pay API v3 and Alipay's open API, speaking their wire protocols
with real keys: they check our request signatures with our public key, answer signed with their
own private key, and write notifications the way the real services do (WeChat's resource
encrypted with the APIv3 key). They play the outside world; none of our code runs in them."""

from __future__ import annotations

import base64
import gzip
import io
import json
import secrets
import threading
import time
import zipfile
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlparse

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class KeyPair:
    def __init__(self):
        self.private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.public = self.private.public_key()

    @property
    def private_pem(self) -> str:
        return self.private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()

    @property
    def public_pem(self) -> str:
        return self.public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def sign(self, message: str) -> str:
        raw = self.private.sign(message.encode(), padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(raw).decode()

    def verifies(self, message: str, signature: str) -> bool:
        try:
            self.public.verify(
                base64.b64decode(signature), message.encode(), padding.PKCS1v15(), hashes.SHA256()
            )
            return True
        except (InvalidSignature, ValueError):
            return False


class _Server:
    handler: type[BaseHTTPRequestHandler]

    def start(self):
        owner = self

        class Handler(self.handler):
            fake = owner

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        return self

    def stop(self):
        self.httpd.shutdown()


# --- WeChat Pay API v3 -----------------------------------------------------------------------


class _WeChatHandler(BaseHTTPRequestHandler):
    fake: FakeWeChatPay

    def log_message(self, *args):
        pass

    def _answer(self, status: int, payload: dict | None):
        body = json.dumps(payload, separators=(",", ":")) if payload is not None else ""
        stamp, nonce = str(int(time.time())), secrets.token_hex(16)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Wechatpay-Timestamp", stamp)
        self.send_header("Wechatpay-Nonce", nonce)
        self.send_header("Wechatpay-Serial", self.fake.public_key_id)
        self.send_header("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048")
        self.send_header(
            "Wechatpay-Signature", self.fake.platform.sign(f"{stamp}\n{nonce}\n{body}\n")
        )
        self.send_header("Content-Length", str(len(body.encode())))
        self.end_headers()
        self.wfile.write(body.encode())

    def _signed_by_merchant(self, method: str, body: str) -> bool:
        auth = self.headers.get("Authorization", "")
        scheme, _, rest = auth.partition(" ")
        fields = dict(part.split("=", 1) for part in rest.split(",") if "=" in part)
        fields = {k.strip(): v.strip().strip('"') for k, v in fields.items()}
        message = (
            f"{method}\n{self.path}\n{fields.get('timestamp')}\n{fields.get('nonce_str')}\n{body}\n"
        )
        return (
            scheme == "WECHATPAY2-SHA256-RSA2048"
            and fields.get("mchid") == self.fake.mchid
            and self.fake.merchant.verifies(message, fields.get("signature", ""))
        )

    def do_GET(self):  # noqa: N802
        if not self._signed_by_merchant("GET", ""):
            return self._answer(401, {"code": "SIGN_ERROR", "message": "bad signature"})
        path = urlparse(self.path).path
        query = dict(parse_qsl(urlparse(self.path).query))
        if path == "/v3/bill/tradebill":
            token = secrets.token_hex(8)
            self.fake.bill_tokens[token] = query["bill_date"]
            url = f"{self.fake.url}/v3/billdownload/file?token={token}"
            return self._answer(200, {"hash_type": "SHA1", "hash_value": "x", "download_url": url})
        if path == "/v3/billdownload/file":
            day = self.fake.bill_tokens.get(query.get("token", ""))
            raw = gzip.compress(self.fake.trade_bill(day).encode("utf-8"))
            self.send_response(200)
            self.send_header("Content-Type", "application/octet-stream")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
            return None
        number = path.rsplit("/", 1)[-1]
        order = self.fake.orders.get(number)
        if not path.startswith("/v3/pay/transactions/out-trade-no/") or order is None:
            return self._answer(404, {"code": "ORDER_NOT_EXIST", "message": "no such order"})
        return self._answer(
            200,
            {
                "out_trade_no": number,
                "transaction_id": order["transaction_id"],
                "trade_state": order["state"],
                "amount": {"total": order["total"], "currency": "CNY"},
            },
        )

    def do_POST(self):  # noqa: N802
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
        if not self._signed_by_merchant("POST", body):
            return self._answer(401, {"code": "SIGN_ERROR", "message": "bad signature"})
        data = json.loads(body or "{}")
        path = urlparse(self.path).path
        if path == "/v3/pay/transactions/jsapi":
            number = data["out_trade_no"]
            self.fake.orders[number] = {
                "total": data["amount"]["total"],
                "openid": data["payer"]["openid"],
                "appid": data["appid"],
                "notify_url": data["notify_url"],
                "state": "NOTPAY",
                "transaction_id": "42000" + secrets.token_hex(8),
            }
            return self._answer(200, {"prepay_id": "wx" + secrets.token_hex(12)})
        if path == "/v3/refund/domestic/refunds":
            self.fake.refund_calls.append(data)
            if self.fake.fail_refunds:  # WeChat Pay is having a bad moment
                self.fake.fail_refunds -= 1
                return self._answer(500, {"code": "SYSTEM_ERROR", "message": "try again"})
            refund = self.fake.refunds.setdefault(
                data["out_refund_no"],
                {"refund_id": "5030" + secrets.token_hex(8), "at": _now_cn(), **data},
            )
            return self._answer(200, {"refund_id": refund["refund_id"], "status": "PROCESSING"})
        if path.endswith("/close"):
            number = path.split("/")[-2]
            if number in self.fake.orders:
                self.fake.orders[number]["state"] = "CLOSED"
            return self._answer(204, None)
        return self._answer(404, {"code": "NOT_FOUND", "message": path})


def _now_cn() -> str:
    return datetime.now(timezone(timedelta(hours=8))).strftime("%Y-%m-%d %H:%M:%S")


def _yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


WECHAT_BILL_HEADER = (
    "交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,"
    "交易状态,付款银行,货币种类,应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,"
    "充值券退款金额,退款类型,退款状态,商品名称,商户数据包,手续费,费率,订单金额,申请退款金额,"
    "费率备注"
)


class FakeWeChatPay(_Server):
    handler = _WeChatHandler

    def trade_bill(self, day: str | None) -> str:
        """The day's trade bill as WeChat Pay writes it: backtick-prefixed fields, then totals."""
        rows = [WECHAT_BILL_HEADER]
        for number, o in self.orders.items():
            if o["state"] == "SUCCESS" and o.get("paid_at", "").startswith(day or "-"):
                total = _yuan(o["total"])
                fields = [
                    o["paid_at"],
                    self.appid,
                    self.mchid,
                    "",
                    "",
                    o["transaction_id"],
                    number,
                    o["openid"],
                    "JSAPI",
                    "SUCCESS",
                    "OTHERS",
                    "CNY",
                    total,
                    "0.00",
                    "0",
                    "0",
                    "0.00",
                    "0.00",
                    "",
                    "",
                    "yuyue",
                    "",
                    "0.00",
                    "0.60%",
                    total,
                    "0.00",
                    "",
                ]
                rows.append(",".join("`" + f for f in fields))
        for r in self.refunds.values():
            if not r["at"].startswith(day or "-"):
                continue
            order = self.orders[r["out_trade_no"]]
            amount = _yuan(r["amount"]["refund"])
            fields = [
                r["at"],
                self.appid,
                self.mchid,
                "",
                "",
                order["transaction_id"],
                r["out_trade_no"],
                order["openid"],
                "JSAPI",
                "REFUND",
                "OTHERS",
                "CNY",
                "0.00",
                "0.00",
                r["refund_id"],
                r["out_refund_no"],
                amount,
                "0.00",
                "ORIGINAL",
                "SUCCESS",
                "yuyue",
                "",
                "0.00",
                "0.60%",
                "0.00",
                amount,
                "",
            ]
            rows.append(",".join("`" + f for f in fields))
        rows.append("总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额")
        rows.append("`0,`0.00,`0.00,`0.00,`0.00,`0.00")
        return "\n".join(rows) + "\n"

    def __init__(self, mchid="1230000109"):
        self.merchant = KeyPair()  # our key pair: we sign, it checks
        self.platform = KeyPair()  # WeChat Pay's: it signs, we check
        self.mchid = mchid
        self.appid = "wxdemoapp"
        self.apiv3_key = secrets.token_hex(16)  # 32 characters
        self.public_key_id = "PUB_KEY_ID_" + secrets.token_hex(8).upper()
        self.orders: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.refund_calls: list[dict] = []
        self.fail_refunds = 0  # how many refund requests to answer with a 500
        self.bill_tokens: dict[str, str] = {}

    def settings(self) -> dict:
        return {
            "platform": {
                "mchid": self.mchid,
                "appid": self.appid,
                "cert_serial_no": "444F4864EA9B34415",
                "private_key": self.merchant.private_pem,
                "apiv3_key": self.apiv3_key,
                "public_key": self.platform.public_pem,
                "public_key_id": self.public_key_id,
                "api_base": self.url,
            }
        }

    def notification(
        self,
        out_trade_no: str,
        *,
        state="SUCCESS",
        total=None,
        signer=None,
        tamper=False,
        sent_at=None,
    ) -> tuple[dict, bytes]:
        """What WeChat Pay POSTs to the notify URL once the payer has paid: (headers, body)."""
        order = self.orders[out_trade_no]
        if state == "SUCCESS":
            order["state"] = "SUCCESS"
            order.setdefault("paid_at", _now_cn())
        resource = {
            "mchid": self.mchid,
            "appid": self.appid,
            "out_trade_no": out_trade_no,
            "transaction_id": order["transaction_id"],
            "trade_state": state,
            "amount": {"total": order["total"] if total is None else total, "currency": "CNY"},
            "payer": {"openid": order["openid"]},
        }
        return self._event("TRANSACTION.SUCCESS", "transaction", resource, signer, tamper, sent_at)

    def refund_notification(self, out_refund_no: str, *, status="SUCCESS", signer=None):
        """What WeChat Pay POSTs to the refund's notify URL when a refund ends: (headers, body)."""
        refund = self.refunds[out_refund_no]
        order = self.orders[refund["out_trade_no"]]
        resource = {
            "mchid": self.mchid,
            "out_trade_no": refund["out_trade_no"],
            "transaction_id": order["transaction_id"],
            "out_refund_no": out_refund_no,
            "refund_id": refund["refund_id"],
            "refund_status": status,
            "success_time": "2026-11-24T10:05:00+08:00",
            "user_received_account": "支付用户零钱",
            "amount": {
                "total": order["total"],
                "refund": refund["amount"]["refund"],
                "payer_total": order["total"],
                "payer_refund": refund["amount"]["refund"],
            },
        }
        return self._event(f"REFUND.{status}", "refund", resource, signer, False, None)

    def _event(self, event_type, original_type, resource, signer, tamper, sent_at):
        """An event as WeChat Pay sends it: the resource sealed with AES-256-GCM under the APIv3
        key, the body signed with the platform key over timestamp, nonce and body."""
        nonce = secrets.token_hex(6)  # 12 characters
        sealed = AESGCM(self.apiv3_key.encode()).encrypt(
            nonce.encode(), json.dumps(resource).encode(), original_type.encode()
        )
        if tamper:
            sealed = bytes([sealed[0] ^ 1]) + sealed[1:]
        body = json.dumps(
            {
                "id": "EV-" + secrets.token_hex(8),
                "create_time": "2026-11-24T10:00:00+08:00",
                "resource_type": "encrypt-resource",
                "event_type": event_type,
                "summary": "支付成功" if original_type == "transaction" else "退款状态变更",
                "resource": {
                    "algorithm": "AEAD_AES_256_GCM",
                    "ciphertext": base64.b64encode(sealed).decode(),
                    "nonce": nonce,
                    "associated_data": original_type,
                    "original_type": original_type,
                },
            }
        )
        stamp = str(int(sent_at if sent_at is not None else time.time()))
        sign_nonce = secrets.token_hex(16)
        headers = {
            "Wechatpay-Timestamp": stamp,
            "Wechatpay-Nonce": sign_nonce,
            "Wechatpay-Serial": self.public_key_id,
            "Wechatpay-Signature-Type": "WECHATPAY2-SHA256-RSA2048",
            "Wechatpay-Signature": (signer or self.platform).sign(
                f"{stamp}\n{sign_nonce}\n{body}\n"
            ),
        }
        return headers, body.encode()


# --- Alipay ---------------------------------------------------------------------------------


class _AlipayHandler(BaseHTTPRequestHandler):
    fake: FakeAlipay

    def log_message(self, *args):
        pass

    def do_GET(self):  # noqa: N802
        params = dict(parse_qsl(urlparse(self.path).query, keep_blank_values=True))
        if urlparse(self.path).path == "/bill.zip":
            raw = self.fake.bill_zip(params["day"])
            self.send_response(200)
            self.send_header("Content-Type", "application/zip")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)
            return None
        signature = params.pop("sign", "")
        message = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
        method = params.get("method", "")
        key = method.replace(".", "_") + "_response"
        if params.get("app_id") != self.fake.appid or not self.fake.app.verifies(
            message, signature
        ):
            inner = {
                "code": "40002",
                "msg": "Invalid Arguments",
                "sub_code": "isv.invalid-signature",
            }
            return self._answer(key, inner)
        biz = json.loads(params.get("biz_content") or "{}")
        number = biz.get("out_trade_no", "")
        order = self.fake.orders.get(number)
        if method == "alipay.data.dataservice.bill.downloadurl.query":
            url = f"{self.fake.url}/bill.zip?day={biz['bill_date']}"
            return self._answer(key, {"code": "10000", "msg": "Success", "bill_download_url": url})
        if order is None:
            return self._answer(
                key, {"code": "40004", "msg": "Business Failed", "sub_code": "ACQ.TRADE_NOT_EXIST"}
            )
        if method == "alipay.trade.refund":
            self.fake.refund_calls.append(biz)
            self.fake.refunds.setdefault(biz["out_request_no"], {**biz, "at": _now_cn()})
            inner = {
                "code": "10000",
                "msg": "Success",
                "out_trade_no": number,
                "trade_no": order["trade_no"],
                "refund_fee": biz["refund_amount"],
                "fund_change": "Y",
            }
        elif method == "alipay.trade.query":
            inner = {
                "code": "10000",
                "msg": "Success",
                "out_trade_no": number,
                "trade_no": order["trade_no"],
                "trade_status": order["state"],
                "total_amount": order["total_amount"],
            }
        elif method == "alipay.trade.close":
            order["state"] = "TRADE_CLOSED"
            inner = {
                "code": "10000",
                "msg": "Success",
                "out_trade_no": number,
                "trade_no": order["trade_no"],
            }
        else:
            inner = {"code": "40004", "msg": "Business Failed", "sub_code": "unknown-method"}
        return self._answer(key, inner)

    def _answer(self, key: str, inner: dict):
        content = json.dumps(inner, separators=(",", ":"), ensure_ascii=False)
        raw = f'{{"{key}":{content},"sign":"{self.fake.alipay.sign(content)}"}}'.encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


class FakeAlipay(_Server):
    handler = _AlipayHandler

    def __init__(self, appid="2021000000000001"):
        self.app = KeyPair()  # our app's key pair
        self.alipay = KeyPair()  # Alipay's
        self.appid = appid
        self.orders: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.refund_calls: list[dict] = []

    def settings(self) -> dict:
        return {
            "platform": {
                "appid": self.appid,
                "app_private_key": self.app.private_pem,
                "alipay_public_key": self.alipay.public_pem,
                "api_base": self.url + "/gateway.do",
            }
        }

    def paid(self, order_string: str) -> str:
        """The payer pays the order our app string describes (checked with our public key)."""
        params = dict(parse_qsl(order_string, keep_blank_values=True))
        signature = params.pop("sign")
        message = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
        assert self.app.verifies(message, signature), "the order string is not signed by the app"
        biz = json.loads(params["biz_content"])
        self.orders[biz["out_trade_no"]] = {
            "total_amount": biz["total_amount"],
            "trade_no": "2026" + secrets.token_hex(8),
            "state": "TRADE_SUCCESS",
            "paid_at": _now_cn(),
        }
        return biz["out_trade_no"]

    def bill_zip(self, day: str) -> bytes:
        """The day's bill as Alipay serves it: a zip of GBK CSVs, the details and a summary."""
        header = (
            "支付宝交易号,商户订单号,业务类型,商品名称,创建时间,完成时间,门店编号,门店名称,操作员,"
            "终端号,对方账户,订单金额（元）,商家实收（元）,支付宝红包（元）,集分宝（元）,"
            "支付宝优惠（元）,商家优惠（元）,券核销金额（元）,券名称,商家红包消费金额（元）,"
            "卡消费金额（元）,退款批次号/请求号,服务费（元）,分润（元）,备注"
        )
        rows = ["#支付宝业务明细查询", f"#账号：[{self.appid}]", f"#起始日期：[{day}]", header]
        zeros = ["0.00"] * 5
        for number, o in self.orders.items():
            if o.get("paid_at", "").startswith(day):
                amount = o["total_amount"]
                rows.append(
                    ",".join(
                        [
                            o["trade_no"],
                            number,
                            "交易",
                            "yuyue",
                            o["paid_at"],
                            o["paid_at"],
                            "",
                            "",
                            "",
                            "",
                            "buyer",
                            amount,
                            amount,
                            *zeros,
                            "",
                            "0.00",
                            "0.00",
                            "",
                            "0.00",
                            "0.00",
                            "",
                        ]
                    )
                )
        for request_no, r in self.refunds.items():
            if r["at"].startswith(day):
                order = self.orders[r["out_trade_no"]]
                amount = "-" + r["refund_amount"]
                rows.append(
                    ",".join(
                        [
                            order["trade_no"],
                            r["out_trade_no"],
                            "退款",
                            "yuyue",
                            r["at"],
                            r["at"],
                            "",
                            "",
                            "",
                            "",
                            "buyer",
                            amount,
                            amount,
                            *zeros,
                            "",
                            "0.00",
                            "0.00",
                            request_no,
                            "0.00",
                            "0.00",
                            "",
                        ]
                    )
                )
        rows.append("#-----------------业务明细列表结束------------------")
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(f"{self.appid}_{day}_业务明细.csv", "\n".join(rows).encode("gbk"))
            archive.writestr(f"{self.appid}_{day}_业务明细(汇总).csv", "#汇总".encode("gbk"))
        return buffer.getvalue()

    def notification(
        self,
        out_trade_no: str,
        *,
        total_amount=None,
        status="TRADE_SUCCESS",
        signer=None,
        app_id=None,
    ) -> bytes:
        from urllib.parse import urlencode

        order = self.orders[out_trade_no]
        data = {
            "notify_time": "2026-11-24 10:00:00",
            "notify_type": "trade_status_sync",
            "notify_id": "ntf" + secrets.token_hex(8),
            "app_id": app_id or self.appid,
            "charset": "utf-8",
            "version": "1.0",
            "trade_no": order["trade_no"],
            "out_trade_no": out_trade_no,
            "total_amount": total_amount or order["total_amount"],
            "trade_status": status,
        }
        message = "&".join(f"{k}={v}" for k, v in sorted(data.items()))
        data["sign"] = (signer or self.alipay).sign(message)
        data["sign_type"] = "RSA2"
        return urlencode(data).encode()
