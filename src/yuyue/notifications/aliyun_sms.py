"""Text messages through Alibaba Cloud's SMS service (短信服务, API version 2017-05-25).

`YUYUE_SMS_SENDER = "yuyue.notifications.aliyun_sms.AliyunSms"` with the keys by setting
(`ALIYUN_ACCESS_KEY_ID`, `ALIYUN_ACCESS_KEY_SECRET`), the approved signature
(`ALIYUN_SMS_SIGN_NAME`) and, per kind of notice, the approved template and the payload fields
that fill its variables (`ALIYUN_SMS_TEMPLATES`: {"booking.reminder": {"code": "SMS_123",
"params": {"service": "service", "time": "starts_at"}}}). The request is the service's RPC call
`SendSms` signed with HMAC-SHA1 (signature version 1.0) at `ALIYUN_SMS_BASE`, so tests serve a
stand-in that checks the signature. A refusal raises: the sending job tries again later.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import uuid
from urllib.parse import quote

import httpx
from django.conf import settings
from django.utils import timezone


class SmsRefused(RuntimeError):
    pass


def _encode(value: str) -> str:
    """Alibaba Cloud's percent-encoding (RFC 3986: space %20, '*' %2A, '~' kept)."""
    return quote(str(value), safe="~")


def signature(params: dict[str, str], secret: str, method: str = "GET") -> str:
    canonical = "&".join(f"{_encode(k)}={_encode(v)}" for k, v in sorted(params.items()))
    to_sign = f"{method}&{_encode('/')}&{_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunSms:
    def send(self, phone: str, text: str, *, kind=None, payload=None) -> None:
        template = settings.ALIYUN_SMS_TEMPLATES.get(kind or "")
        if not template:
            raise SmsRefused(f"no Alibaba Cloud template for {kind}")
        values = {
            name: str((payload or {}).get(field, ""))[:35]  # a variable holds up to 35 characters
            for name, field in template.get("params", {}).items()
        }
        params = {
            "AccessKeyId": settings.ALIYUN_ACCESS_KEY_ID,
            "Action": "SendSms",
            "Format": "JSON",
            "PhoneNumbers": phone.removeprefix("+86"),
            "RegionId": "cn-hangzhou",
            "SignName": settings.ALIYUN_SMS_SIGN_NAME,
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": uuid.uuid4().hex,
            "SignatureVersion": "1.0",
            "TemplateCode": template["code"],
            "TemplateParam": json.dumps(values, ensure_ascii=False, separators=(",", ":")),
            "Timestamp": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
            "Version": "2017-05-25",
        }
        params["Signature"] = signature(params, settings.ALIYUN_ACCESS_KEY_SECRET)
        response = httpx.get(settings.ALIYUN_SMS_BASE.rstrip("/") + "/", params=params, timeout=5.0)
        try:
            data = response.json()
        except ValueError as exc:
            raise SmsRefused(f"HTTP {response.status_code}") from exc
        if data.get("Code") != "OK":
            raise SmsRefused(f"{data.get('Code')}: {data.get('Message')}")
