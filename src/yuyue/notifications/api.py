"""Your in-app notices (reminders and other news of your orders)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from ninja import Field, Query, Router, Schema

from yuyue.accounts.auth import bearer

from . import delivery, notices

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


class SubscriptionsIn(Schema):
    templates: list[str] = Field(
        min_length=1,
        max_length=20,
        description="The kinds of notices whose templates the person accepted in "
        "wx.requestSubscribeMessage (each acceptance: one message may be sent)",
    )


class CreditsOut(Schema):
    credits: dict[str, int]


class MuteIn(Schema):
    kind: str = Field(min_length=1, max_length=48)
    muted: bool = Field(strict=True)
    channel: Literal["wechat", "sms"] = "wechat"


@router.post("/me/subscriptions", response=CreditsOut, auth=bearer)
def add_subscriptions(request, body: SubscriptionsIn):
    """Record what the person accepted in the mini-program; the credits now."""
    return {"credits": delivery.grant(actor=request.auth, templates=body.templates)}


@router.get("/me/subscriptions", response=CreditsOut, auth=bearer)
def my_subscriptions(request):
    """Subscribe messages one may still be sent, by kind of notice."""
    return {"credits": delivery.credits(request.auth.pk)}


@router.put("/me/notice-settings", response=CreditsOut, auth=bearer)
def mute(request, body: MuteIn):
    """Turn a kind of notice off (or on) through WeChat or as a text; in the app every notice
    stays."""
    delivery.set_muted(actor=request.auth, kind=body.kind, muted=body.muted, channel=body.channel)
    return {"credits": delivery.credits(request.auth.pk)}
