"""Your in-app notices (reminders and other news of your orders)."""

from __future__ import annotations

import datetime as dt

from ninja import Query, Router, Schema

from yuyue.accounts.auth import bearer

from . import notices

router = Router(tags=["notices"])


class NoticeOut(Schema):
    id: int
    kind: str
    payload: dict
    created_at: dt.datetime
    read_at: dt.datetime | None


@router.get("/me/notices", response=list[NoticeOut], auth=bearer)
def my_notices(request, unread: bool = False, limit: int = Query(50, ge=1, le=200)):
    """Newest first."""
    return notices.my_notices(actor=request.auth, unread_only=unread, limit=limit)


@router.post("/me/notices/{notice_id}/read", response=NoticeOut, auth=bearer)
def mark_read(request, notice_id: int):
    return notices.mark_read(actor=request.auth, notice_id=notice_id)
