"""The media servers a call's pages connect through: STUN, and TURN with short-lived credentials."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac

from django.conf import settings
from django.utils import timezone


def ice_servers(user_id: int, now: dt.datetime | None = None) -> list[dict]:
    """The STUN/TURN servers for one side's browser: YUYUE_ICE_SERVERS, and with a TURN secret
    credentials of its own by coturn's REST scheme (`use-auth-secret`): the user name is
    "<expiry unix time>:<user id>", the password base64(HMAC-SHA1(secret, user name)), so they
    stop working after YUYUE_TURN_TTL_SECONDS and no lasting password is ever in a page."""
    servers = list(settings.YUYUE_ICE_SERVERS)
    if settings.YUYUE_TURN_SECRET and settings.YUYUE_TURN_URLS:
        now = now or timezone.now()
        expires = int(now.timestamp()) + settings.YUYUE_TURN_TTL_SECONDS
        username = f"{expires}:{user_id}"
        digest = hmac.new(
            settings.YUYUE_TURN_SECRET.encode(), username.encode(), hashlib.sha1
        ).digest()
        servers.append(
            {
                "urls": [u.strip() for u in settings.YUYUE_TURN_URLS],
                "username": username,
                "credential": base64.b64encode(digest).decode(),
            }
        )
    return servers
