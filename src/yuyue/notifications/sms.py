"""Text messages: the sender is pluggable (settings.YUYUE_SMS_SENDER), like the login-code sender.

A sender is a class with `send(phone, text, *, kind=None, payload=None) -> None` that raises when
the provider did not take the message (the sending job tries again later). The default writes to
the log; `AliyunSms` sends through Alibaba Cloud's SMS API (`aliyun_sms.py`).
"""

from __future__ import annotations

import logging
from functools import lru_cache

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("yuyue.sms")


class LogSms:
    def send(self, phone: str, text: str, *, kind=None, payload=None) -> None:
        log.info("sms to %s: %s", phone, text)


@lru_cache(maxsize=4)
def _sender(path: str):
    return import_string(path)()


def get_sms_sender():
    return _sender(settings.YUYUE_SMS_SENDER)


TEXTS = {
    "booking.reminder": "【约约】您预约的{service}将于{when}开始。",
    "call.warning": "【约约】通话剩余约 {seconds_left} 秒。",
}


def text_for(kind: str, payload: dict) -> str | None:
    template = TEXTS.get(kind)
    if template is None:
        return None
    minutes = payload.get("minutes_before")
    when = (
        "现在" if minutes == 0 else (f"{minutes} 分钟后" if minutes else payload.get("starts_at"))
    )
    try:
        return template.format(when=when, **payload)
    except (KeyError, IndexError):
        return None
