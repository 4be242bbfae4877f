"""Telling people things: an in-app notice for every message (pushed to their open pages after
commit), and its deliveries beyond the app planned in the same transaction (`delivery`: text
messages, WeChat subscribe messages), which the sending job sends."""

from __future__ import annotations

import logging

from django.db import transaction

from . import delivery, live
from .models import Notice

log = logging.getLogger("yuyue.notify")


def notify(user_id: int, kind: str, **payload) -> None:
    delivery.plan([Notice.objects.create(user_id=user_id, kind=kind, payload=payload)])
    transaction.on_commit(lambda: log.info("notify user=%s kind=%s %s", user_id, kind, payload))
    transaction.on_commit(lambda: live.ping(user_id))


def notify_many(notes: list[tuple[int, str, dict]]) -> None:
    """Many in-app notices in one statement [(user_id, kind, payload)] (a dispatch round's
    offers); the kinds sent as text messages are sent one by one after commit."""
    delivery.plan(
        Notice.objects.bulk_create(
            [Notice(user_id=u, kind=k, payload=p) for u, k, p in notes], batch_size=1000
        )
    )
    for user_id in {u for u, _k, _p in notes}:
        transaction.on_commit(lambda u=user_id: live.ping(u))
