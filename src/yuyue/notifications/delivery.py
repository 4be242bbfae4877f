"""Notices beyond the app: text messages and WeChat subscribe messages 订阅消息.

One place decides what reaches whom through which channel: `plan` (called by `notify` in the
notice's transaction) gives a notice a `Delivery` row for each channel its kind is routed to
(`channels_for`: a text where `YUYUE_SMS_KINDS` says so; WeChat where `YUYUE_WECHAT_TEMPLATES`
gives the kind a template id, page and data fields) when the person can get it (a phone, a
WeChat openid) and has not turned that kind off. A job sends what is due: each row is claimed by
one conditional update (two workers never send one twice), then, just before sending, dropped
if the notice was read or is no longer true (a part above registers what "still true" means for
its kinds, `still_true`), or if the person has no credit left for the template (each acceptance
in the mini-program is one message, spent by one conditional update). WeChat's 43101 (the person
refused or has no subscription) is final and voids their credits of that template; a failure
that may pass (network, system busy, an expired token) gives the credit back and is tried again
later, waiting longer each time, up to `MAX_ATTEMPTS` (a text the provider did not take too)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from yuyue.accounts.models import User
from yuyue.accounts.wechat import access_token
from yuyue.core.controls import race_control
from yuyue.core.errors import DomainError
from yuyue.core.timeutil import zone

from .models import Delivery, DeliveryStatus, Notice, NoticeMute, SubscribeCredit
from .sms import get_sms_sender, text_for

log = logging.getLogger("yuyue.notify")

WECHAT = "wechat"
SMS = "sms"
MAX_ATTEMPTS = 5
REFUSED = 43101  # "user refuse to accept the msg": no subscription (or no credit) on WeChat's side
TOKEN_ERRORS = {40001, 42001}  # the access token is invalid or expired: ask for a new one
# WeChat's limits on a subscribe message's values, by the key's type (its name without digits)
LIMITS = {
    "thing": 20,
    "name": 10,
    "phrase": 5,
    "symbol": 5,
    "character_string": 32,
    "number": 32,
    "letter": 32,
    "phone_number": 17,
    "car_number": 8,
}

_still_true: dict[str, Callable[[dict], bool]] = {}


def still_true(kind: str):
    """Register `check(payload) -> bool` for notices of `kind` (a part above, in its
    AppConfig.ready): a notice no longer true is not sent beyond the app."""

    def register(check: Callable[[dict], bool]):
        _still_true[kind] = check
        return check

    return register


# --- what is routed where ---------------------------------------------------------------------


def template_for(kind: str) -> dict | None:
    found = settings.YUYUE_WECHAT_TEMPLATES.get(kind)
    return found if found and found.get("id") else None


def channels_for(kind: str) -> list[str]:
    """Where a kind of notice goes beyond the app: a text message where YUYUE_SMS_KINDS says
    so, a WeChat subscribe message where it has a template."""
    return [
        c for c, on in ((SMS, kind in settings.YUYUE_SMS_KINDS), (WECHAT, template_for(kind))) if on
    ]


def plan(notices: list[Notice]) -> None:
    """The deliveries of new notices beyond the app (in their transaction): one per channel
    the kind is routed to, for people that channel reaches who did not turn the kind off."""
    wanted = [(n, c) for n in notices for c in channels_for(n.kind)]
    if not wanted:
        return
    people = {n.user_id for n, _c in wanted}
    reach = {
        SMS: set(
            User.objects.filter(pk__in=people, phone_index__isnull=False)
            .exclude(phone_index="")
            .values_list("pk", flat=True)
        ),
        WECHAT: set(
            User.objects.filter(pk__in=people, wx_openid__isnull=False).values_list("pk", flat=True)
        ),
    }
    muted = set(
        NoticeMute.objects.filter(user_id__in=people).values_list("user_id", "kind", "channel")
    )
    now = timezone.now()
    Delivery.objects.bulk_create(
        [
            Delivery(notice=n, channel=c, next_try_at=now)
            for n, c in wanted
            if n.user_id in reach[c] and (n.user_id, n.kind, c) not in muted
        ]
    )


def grant(*, actor, templates: list[str]) -> dict[str, int]:
    """The mini-program reports the templates the person accepted: one credit each."""
    if getattr(actor, "pk", None) is None:
        raise DomainError("auth_required")
    known = list(dict.fromkeys(templates))
    for template in known:
        if not template_for(template):
            raise DomainError("template_unknown", kind=template[:48])
    with transaction.atomic():
        for template in known:
            row, _ = SubscribeCredit.objects.get_or_create(user_id=actor.pk, template=template)
            SubscribeCredit.objects.filter(pk=row.pk).update(count=F("count") + 1)
    return credits(actor.pk)


def set_muted(*, actor, kind: str, muted: bool, channel: str = WECHAT) -> None:
    """Turn a kind of notice off (or on again) through a channel beyond the app."""
    if getattr(actor, "pk", None) is None:
        raise DomainError("auth_required")
    if muted:
        NoticeMute.objects.get_or_create(user_id=actor.pk, kind=kind, channel=channel)
    else:
        NoticeMute.objects.filter(user_id=actor.pk, kind=kind, channel=channel).delete()


def credits(user_id: int) -> dict[str, int]:
    return dict(SubscribeCredit.objects.filter(user_id=user_id).values_list("template", "count"))


# --- sending ----------------------------------------------------------------------------------


def send_due(*, limit: int = 100) -> dict[str, int]:
    """Send the deliveries that are due (the job); how many ended how."""
    now = timezone.now()
    due = list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_try_at__lte=now)
        .order_by("next_try_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    counts: dict[str, int] = {}
    for pk in due:
        if not _claim(pk):
            continue  # another worker has it
        outcome = _send_one(Delivery.objects.select_related("notice__user").get(pk=pk))
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def _claim(pk: int) -> bool:
    naive = race_control("delivery_claim")
    if naive is not None:
        return naive(pk=pk)
    return bool(
        Delivery.objects.filter(pk=pk, status=DeliveryStatus.PENDING).update(
            status=DeliveryStatus.SENDING, attempts=F("attempts") + 1
        )
    )


def _finish(delivery: Delivery, status: str, note: str = "", **extra) -> str:
    Delivery.objects.filter(pk=delivery.pk).update(status=status, note=note[:200], **extra)
    return status


def _spend_credit(user_id: int, template: str) -> bool:
    return bool(
        SubscribeCredit.objects.filter(user_id=user_id, template=template, count__gt=0).update(
            count=F("count") - 1
        )
    )


def _give_back(user_id: int, template: str) -> None:
    SubscribeCredit.objects.filter(user_id=user_id, template=template).update(count=F("count") + 1)


def _send_one(delivery: Delivery) -> str:
    notice, user = delivery.notice, delivery.notice.user
    template = template_for(notice.kind)
    if delivery.channel == WECHAT and (template is None or not user.wx_openid):
        return _finish(delivery, DeliveryStatus.SKIPPED, "no template or no openid")
    if notice.read_at is not None:
        return _finish(delivery, DeliveryStatus.SKIPPED, "read in the app")
    check = _still_true.get(notice.kind)
    if check is not None and not check(notice.payload):
        return _finish(delivery, DeliveryStatus.SKIPPED, "no longer true")
    if delivery.channel == SMS:
        return _send_sms(delivery, notice, user)
    if not _spend_credit(user.pk, notice.kind):
        return _finish(delivery, DeliveryStatus.SKIPPED, "no credit")
    try:
        errcode, errmsg = _post(user.wx_openid, template, notice.payload)
    except (httpx.HTTPError, ValueError, DomainError) as exc:
        errcode, errmsg = -1, f"{type(exc).__name__}: {exc}"
    if errcode == 0:
        return _finish(delivery, DeliveryStatus.SENT, sent_at=timezone.now())
    if errcode == REFUSED:  # final: their subscription is gone, and with it their credits
        SubscribeCredit.objects.filter(user_id=user.pk, template=notice.kind).update(count=0)
        return _finish(delivery, DeliveryStatus.REFUSED, f"{errcode} {errmsg}")
    _give_back(user.pk, notice.kind)
    return _later(delivery, f"{errcode} {errmsg}")


def _later(delivery: Delivery, note: str) -> str:
    """Try again after a wait that doubles each time; after MAX_ATTEMPTS, failed."""
    if delivery.attempts + 1 >= MAX_ATTEMPTS:
        return _finish(delivery, DeliveryStatus.FAILED, note)
    wait = dt.timedelta(seconds=settings.YUYUE_DELIVERY_RETRY_SECONDS * 2**delivery.attempts)
    _finish(delivery, DeliveryStatus.PENDING, note, next_try_at=timezone.now() + wait)
    return "retry"


def _send_sms(delivery: Delivery, notice: Notice, user) -> str:
    text = text_for(notice.kind, notice.payload)
    if not text or not user.phone:
        return _finish(delivery, DeliveryStatus.SKIPPED, "no text or no phone")
    try:
        get_sms_sender().send(user.phone, text, kind=notice.kind, payload=notice.payload)
    except Exception as exc:  # the provider's failure: tried again later, never twice at once
        log.warning("sms to user %s failed: %s", user.pk, exc)
        return _later(delivery, f"{type(exc).__name__}: {exc}")
    return _finish(delivery, DeliveryStatus.SENT, sent_at=timezone.now())


def message_data(fields: dict[str, str], payload: dict) -> dict:
    """The template's data: each value filled from the payload and cut to WeChat's limit for
    its type (thing: 20 characters, name: 10, phrase: 5 …)."""
    data = {}
    for key, pattern in fields.items():
        value = _fill(pattern, payload)
        if key.rstrip("0123456789") in ("time", "date"):
            value = _local(value, with_time=key.startswith("time"))
        limit = LIMITS.get(key.rstrip("0123456789"))
        if limit is not None and len(value) > limit:
            value = value[: limit - 1] + "…"
        data[key] = {"value": value}
    return data


def _local(value: str, *, with_time: bool) -> str:
    """An ISO instant as WeChat's time or date value, on the platform's clock."""
    try:
        at = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if at.tzinfo is not None:
        at = at.astimezone(zone(settings.TIME_ZONE))
    return f"{at:%Y-%m-%d %H:%M}" if with_time else f"{at:%Y-%m-%d}"


def _fill(pattern, payload: dict) -> str:
    try:
        return str(pattern or "").format(**payload)
    except (KeyError, IndexError, ValueError):
        return ""


def _post(openid: str, template: dict, payload: dict) -> tuple[int, str]:
    body = {
        "touser": openid,
        "template_id": template["id"],
        "page": _fill(template.get("page", ""), payload),
        "data": message_data(template.get("data", {}), payload),
        "miniprogram_state": settings.YUYUE_WECHAT_MINIPROGRAM_STATE,
        "lang": "zh_CN",
    }
    url = settings.WECHAT_API_BASE.rstrip("/") + "/cgi-bin/message/subscribe/send"
    for fresh in (False, True):
        token = access_token(fresh=fresh)
        data = httpx.post(url, params={"access_token": token}, json=body, timeout=5.0).json()
        errcode = int(data.get("errcode", 0) or 0)
        if errcode not in TOKEN_ERRORS:
            return errcode, str(data.get("errmsg", ""))
    return errcode, str(data.get("errmsg", ""))
