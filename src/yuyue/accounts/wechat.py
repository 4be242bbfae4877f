"""WeChat: mini-program login (a wx.login code for an openid, jscode2session) and the app's
access token (client_credential, cached until shortly before it expires) that the server-side
APIs take (content check, subscribe messages)."""

from __future__ import annotations

import httpx
from django.conf import settings
from django.core.cache import cache

from yuyue.core.errors import DomainError


def code_to_openid(code: str) -> str:
    """Ask WeChat who this code belongs to. Never called inside a transaction."""
    if not (settings.WECHAT_APP_ID and settings.WECHAT_APP_SECRET):
        raise DomainError("wechat_not_configured")
    try:
        response = httpx.get(
            f"{settings.WECHAT_API_BASE.rstrip('/')}/sns/jscode2session",
            params={
                "appid": settings.WECHAT_APP_ID,
                "secret": settings.WECHAT_APP_SECRET,
                "js_code": code,
                "grant_type": "authorization_code",
            },
            timeout=5.0,
        )
        data = response.json()
    except (httpx.HTTPError, ValueError) as exc:
        raise DomainError("wechat_unavailable") from exc
    if data.get("errcode"):
        raise DomainError(
            "wechat_login_failed", reason=f"{data.get('errcode')} {data.get('errmsg', '')}".strip()
        )
    openid = data.get("openid")
    if not openid or not isinstance(openid, str) or len(openid) > 64:
        raise DomainError("wechat_login_failed", reason="no openid")
    return openid


def access_token(*, unavailable: str = "wechat_unavailable", fresh: bool = False) -> str:
    """The app's access token (`fresh`: ask again, the cached one was refused); a failure
    raises `unavailable` (the caller's own code for "try again later")."""
    key = f"wechat-access-token:{settings.WECHAT_APP_ID}"
    token = None if fresh else cache.get(key)
    if token:
        return token
    if not (settings.WECHAT_APP_ID and settings.WECHAT_APP_SECRET):
        raise DomainError("wechat_not_configured")
    try:
        data = httpx.get(
            settings.WECHAT_API_BASE.rstrip("/") + "/cgi-bin/token",
            params={
                "grant_type": "client_credential",
                "appid": settings.WECHAT_APP_ID,
                "secret": settings.WECHAT_APP_SECRET,
            },
            timeout=5.0,
        ).json()
    except (httpx.HTTPError, ValueError) as exc:
        raise DomainError(unavailable) from exc
    token = data.get("access_token")
    if not token:
        raise DomainError(unavailable)
    cache.set(key, token, max(60, int(data.get("expires_in", 7200)) - 300))
    return token
