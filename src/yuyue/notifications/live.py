"""Notices reach an open page at once: each signed-in person's pages listen on a group of their
own (`ws/notices/`); a new notice pings it after commit, and the page refreshes its unread badge.
The channel layer is Redis where REDIS_URL is set, else in memory (jobs then run in the web
process: `core/embedded_worker.py`)."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

log = logging.getLogger("yuyue.notify")


def group_name(user_id: int) -> str:
    return f"user.{user_id}.notices"


def ping(user_id: int) -> None:
    """Tell the person's open pages that their notices changed (never fails the caller)."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(
            group_name(user_id), {"type": "notices.changed", "payload": {"event": "notices"}}
        )
    except Exception:  # a page that misses a ping still polls; the notice itself is kept
        log.exception("notice ping to user %s failed", user_id)
