"""Telling people things. For now a log line per message on commit; the notification centre of
the engagement issue replaces the body of `notify`, and the call sites stay."""

from __future__ import annotations

import logging

from django.db import transaction

log = logging.getLogger("yuyue.notify")


def notify(user_id: int, kind: str, **payload) -> None:
    transaction.on_commit(lambda: log.info("notify user=%s kind=%s %s", user_id, kind, payload))
