"""Checking what people write before others read it: a pluggable checker
(`YUYUE_CONTENT_CHECKER`). The default passes everything and says so; `WechatChecker` asks
WeChat's `msg_sec_check` (version 2) at `WECHAT_API_BASE`, so tests serve a stand-in that speaks
its protocol. A verdict is "pass" (shown), "review" (held for an operator) or "risky" (refused)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import httpx
from django.conf import settings
from django.core.cache import cache
from django.utils.module_loading import import_string

from yuyue.core.errors import DomainError


@dataclass(frozen=True)
class Verdict:
    suggest: str  # pass | review | risky
    note: str = ""


class PassChecker:
    """Development and tests that do not check: everything passes, and the note says so."""

    def check(self, text: str, *, openid: str = "") -> Verdict:
        return Verdict("pass", "not checked (no content checker set)")


class WechatChecker:
    """WeChat's text check: an access token (client_credential, cached until it expires), then
    POST /wxa/msg_sec_check with version 2, scene 2 (comments) and the writer's openid."""

    def _token(self) -> str:
        key = f"wechat-access-token:{settings.WECHAT_APP_ID}"
        token = cache.get(key)
        if token:
            return token
        if not (settings.WECHAT_APP_ID and settings.WECHAT_APP_SECRET):
            raise DomainError("wechat_not_configured")
        data = self._get(
            "/cgi-bin/token",
            {
                "grant_type": "client_credential",
                "appid": settings.WECHAT_APP_ID,
                "secret": settings.WECHAT_APP_SECRET,
            },
        )
        token = data.get("access_token")
        if not token:
            raise DomainError("content_check_unavailable")
        cache.set(key, token, max(60, int(data.get("expires_in", 7200)) - 300))
        return token

    def _get(self, path: str, params: dict) -> dict:
        try:
            response = httpx.get(
                settings.WECHAT_API_BASE.rstrip("/") + path, params=params, timeout=5.0
            )
            return response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise DomainError("content_check_unavailable") from exc

    def check(self, text: str, *, openid: str = "") -> Verdict:
        token = self._token()
        try:
            response = httpx.post(
                settings.WECHAT_API_BASE.rstrip("/") + "/wxa/msg_sec_check",
                params={"access_token": token},
                json={"content": text, "version": 2, "scene": 2, "openid": openid},
                timeout=5.0,
            )
            data = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise DomainError("content_check_unavailable") from exc
        if data.get("errcode"):
            raise DomainError("content_check_unavailable")
        result = data.get("result") or {}
        suggest = result.get("suggest", "review")
        if suggest not in ("pass", "review", "risky"):
            suggest = "review"
        return Verdict(suggest, f"wechat {suggest} {result.get('label', '')}".strip())


@lru_cache(maxsize=4)
def _checker(path: str):
    return import_string(path)()


def get_checker():
    return _checker(settings.YUYUE_CONTENT_CHECKER)
