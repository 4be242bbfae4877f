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


def push(group: str, event: dict) -> None:
    """Send `event` to a channel-layer group from synchronous code, after what it tells of has
    been committed. It never fails the caller: what was done stands, and a page that misses a
    push catches up when it asks again (a badge every 30 s, a chat's history, an order's page)."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, event)
    except Exception:
        log.exception("push to %s failed", group)


def ping_event(user_id: int) -> tuple[str, dict]:
    """(group, event) that tells the person's open pages their notices or messages changed."""
    return group_name(user_id), {"type": "notices.changed", "payload": {"event": "notices"}}


def ping(user_id: int) -> None:
    """Tell the person's open pages that their notices changed."""
    push(*ping_event(user_id))
