"""One-time login codes: senders are pluggable (settings.YUYUE_OTP_SENDER)."""

from __future__ import annotations

import logging
from functools import lru_cache

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger("yuyue.otp")


class LogSender:
    """The development sender: writes the code to the log instead of sending an SMS."""

    def send(self, phone: str, code: str) -> None:
        log.info("login code for %s: %s", phone, code)


@lru_cache(maxsize=4)
def _sender(path: str):
    return import_string(path)()


def get_sender():
    return _sender(settings.YUYUE_OTP_SENDER)
