"""What the pages of every side share: the one-line message a page shows after a form
(`flash`), the pictures a form sent (`uploaded_pictures`), and the Monday of an asked week."""

from __future__ import annotations

import datetime as dt

from yuyue.core.errors import DomainError

MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # what a form may send per file; core.images checks the rest


def flash(request, text: str, kind: str = "ok") -> None:
    """A message for the next page (`web/provider/_flash.html` shows and forgets it)."""
    request.session["flash"] = {"kind": kind, "text": text}


def uploaded_pictures(request, name: str) -> list[bytes]:
    """The files of field `name`, read; a file over MAX_UPLOAD_BYTES refuses them all."""
    files = request.FILES.getlist(name)
    if any(f.size > MAX_UPLOAD_BYTES for f in files):
        raise DomainError("image_too_large", max_mb=8)
    return [f.read() for f in files]


def week_start(value, today: dt.date) -> dt.date:
    """The Monday of the week holding the date `value` (ISO text), or of `today` if none."""
    try:
        day = dt.date.fromisoformat(value or "")
    except ValueError:
        day = today
    return day - dt.timedelta(days=day.weekday())
