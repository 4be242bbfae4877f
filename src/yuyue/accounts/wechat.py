"""WeChat mini-program login: exchange a wx.login code for an openid (jscode2session)."""

from __future__ import annotations

import httpx
from django.conf import settings

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
