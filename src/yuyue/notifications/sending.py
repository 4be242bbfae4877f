"""Telling people things: an in-app notice for every message, and a text message for the kinds
in settings.YUYUE_SMS_KINDS through the pluggable SMS sender (`sms`), after commit."""

from __future__ import annotations

import logging

from django.conf import settings
from django.db import transaction

from yuyue.accounts.models import User

from . import delivery, live
from .models import Notice
from .sms import get_sms_sender, text_for

log = logging.getLogger("yuyue.notify")


def notify(user_id: int, kind: str, **payload) -> None:
    delivery.plan([Notice.objects.create(user_id=user_id, kind=kind, payload=payload)])
    transaction.on_commit(lambda: log.info("notify user=%s kind=%s %s", user_id, kind, payload))
    transaction.on_commit(lambda: live.ping(user_id))
    if kind in settings.YUYUE_SMS_KINDS:
        transaction.on_commit(lambda: _send_sms(user_id, kind, payload))


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
    for user_id, kind, payload in notes:
        if kind in settings.YUYUE_SMS_KINDS:
            transaction.on_commit(lambda u=user_id, k=kind, p=payload: _send_sms(u, k, p))


def _send_sms(user_id: int, kind: str, payload: dict) -> None:
    user = User.objects.filter(pk=user_id).first()
    text = text_for(kind, payload)
    phone = user.phone if user is not None else ""
    if not phone or not text:
        return
    try:
        get_sms_sender().send(phone, text)
    except Exception:  # a failed text must not undo what was done; the in-app notice stands
        log.exception("sms to user %s failed", user_id)
