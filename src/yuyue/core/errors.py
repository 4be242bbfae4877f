"""Domain errors: every refusal has a stable code, an HTTP status and a message in zh-Hans and en.

The catalogue (`codes_catalogue.py`) is the single place where codes are defined. Messages may
use ``{name}`` fields filled from the error's params. We keep the two languages side by side there
rather than in gettext catalogues so that adding a code is one line and needs no compile step
(see docs/adr/0002-error-catalogue.md).
"""

from __future__ import annotations

import re
from typing import Any

from django.utils import translation

from yuyue.core.codes_catalogue import CATALOGUE


class DomainError(Exception):
    """A broken rule or bad input. Raised by services; the API turns it into a problem."""

    def __init__(
        self,
        code: str,
        message: str | None = None,
        *,
        status: int | None = None,
        errors: list | dict | None = None,
        **params: Any,
    ):
        if code not in CATALOGUE:
            raise ValueError(f"unknown error code {code!r}: add it to core/codes_catalogue.py")
        self.code = code
        self.params = params
        self.errors = errors
        self.status = status or CATALOGUE[code][0]
        self._message = message
        super().__init__(f"{code}: {self.message('en')}")

    def message(self, language: str | None = None) -> str:
        if self._message:
            return self._message
        _, en, zh = CATALOGUE[self.code]
        language = language or translation.get_language() or "zh-hans"
        template = en if language.lower().startswith("en") else zh
        try:
            return template.format(**self.params)
        except (KeyError, IndexError):
            return template


_PLACEHOLDER = re.compile(r"{\w+}")


def problem(code: str, status: int | None = None, detail: str | None = None, **extra: Any) -> dict:
    """An RFC 9457 problem body for `code`."""
    status_, en, zh = CATALOGUE[code]
    language = translation.get_language() or "zh-hans"
    body = {
        "type": f"https://yuyue.dev/problems/{code}",
        # the same for every occurrence of the code (RFC 9457): the message without its values
        "title": _PLACEHOLDER.sub("…", en if language.lower().startswith("en") else zh),
        "status": status or status_,
        "code": code,
        "detail": detail or (en if language.lower().startswith("en") else zh),
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


# docs/api.md keeps the catalogue as a table between these lines (`manage.py error_codes --write`)
TABLE_START = "<!-- error codes: start (manage.py error_codes --write) -->"
TABLE_END = "<!-- error codes: end -->"


def catalogue_table() -> str:
    """The catalogue as a Markdown table, in its own order: code, status, both messages."""

    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| code | status | English | 简体中文 |", "| --- | --- | --- | --- |"]
    lines += [
        f"| `{code}` | {status} | {cell(en)} | {cell(zh)} |"
        for code, (status, en, zh) in CATALOGUE.items()
    ]
    return "\n".join(lines)
