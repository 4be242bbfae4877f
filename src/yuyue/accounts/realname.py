"""Real-name checks (实名认证) of people who apply to be providers, behind a setting.

`FormatVerifier` (the default) accepts a name and an ID number that are well formed (GB 11643)
and says that it checked no more. `HttpVerifier` asks a real-name service over HTTP at
YUYUE_REALNAME_BASE_URL: `POST {base}/verify` with {"name", "id_number"}, answered
{"match": true|false, "note": "..."}; tests serve that protocol locally."""

from __future__ import annotations

from dataclasses import dataclass

import httpx
from django.conf import settings
from django.utils.module_loading import import_string

from yuyue.core.errors import DomainError
from yuyue.core.idnumbers import valid_id_number


@dataclass
class Verdict:
    match: bool
    note: str


class FormatVerifier:
    def check(self, name: str, id_number: str) -> Verdict:
        ok = bool(name.strip()) and valid_id_number(id_number)
        return Verdict(ok, "format checked only (no register consulted)")


class HttpVerifier:
    def check(self, name: str, id_number: str) -> Verdict:
        base = settings.YUYUE_REALNAME_BASE_URL.rstrip("/")
        if not base:
            raise DomainError("gateway_not_configured", gateway="realname")
        try:
            answer = httpx.post(
                f"{base}/verify", json={"name": name, "id_number": id_number}, timeout=10
            )
            answer.raise_for_status()
            body = answer.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise DomainError("gateway_error", gateway="realname") from exc
        return Verdict(bool(body.get("match")), str(body.get("note", ""))[:200])


def get_verifier():
    return import_string(settings.YUYUE_REALNAME_VERIFIER)()
