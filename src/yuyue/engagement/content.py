"""Checking what people write before others read it: a pluggable checker
(`YUYUE_CONTENT_CHECKER`). The default passes everything and says so; `WechatChecker` asks
WeChat's `msg_sec_check` (version 2) at `WECHAT_API_BASE`, so tests serve a stand-in that speaks
its protocol. A verdict is "pass" (shown), "review" (held for an operator) or "risky" (refused)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import httpx
from django.conf import settings
from django.utils.module_loading import import_string

from yuyue.accounts.wechat import access_token
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

    def check(self, text: str, *, openid: str = "") -> Verdict:
        token = access_token(unavailable="content_check_unavailable")
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
