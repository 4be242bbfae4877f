"""Engagement API: reviews (write, read a provider's or a merchant's) and after-sales cases for
the customer; the merchant's answers and replies; the operators' decisions. The same services
as the pages (`reviews`, `cases`)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from yuyue.accounts.auth import bearer, operator_bearer
from yuyue.core.errors import DomainError

from . import cases, chat, favourites, reviews
from .models import Case

router = Router(tags=["engagement"])
staff_router = Router(tags=["merchant staff"])
ops_router = Router(tags=["operators"])


class ReviewIn(Schema):
    service_score: int = Field(ge=1, le=5)
    provider_score: int | None = Field(None, ge=1, le=5)
    dimensions: dict[str, Annotated[int, Field(ge=1, le=5)]] = Field(default_factory=dict)
    text: str = Field("", max_length=1000)
    anonymous: bool = Field(False, strict=True)


class ReviewOut(Schema):
    id: int
    booking_id: int
    service_score: int
    provider_score: int | None
    dimensions: dict
    text: str
    anonymous: bool
    status: str
    reply: str
    created_at: dt.datetime


@router.post("/bookings/{booking_id}/review", response={201: ReviewOut}, auth=bearer)
def write_review(request, booking_id: int, body: ReviewIn):
    """Review a finished order (its customer, once, within the window)."""
    review = reviews.write_review(actor=request.auth, booking_id=booking_id, **body.dict())
    return Status(201, review)


class CaseIn(Schema):
    reason: Literal["quality", "not_done", "damage", "conduct", "other"]
    text: str = Field(min_length=1, max_length=2000)
    amount_fen: int = Field(ge=1, le=100_000_000_00)


class CaseEventOut(Schema):
    at: dt.datetime
    role: str
    kind: str
    text: str
    amount_fen: int


class CaseOut(Schema):
    id: int
    booking_id: int
    reason: str
    text: str
    amount_asked_fen: int
    status: str
    answer: str
    answer_due: dt.datetime
    decide_due: dt.datetime | None
    escalated_at: dt.datetime | None
    refund_fen: int
    decision_note: str
    events: list[CaseEventOut]


def case_out(case: Case) -> dict:
    return {
        **{k: getattr(case, k) for k in CaseOut.model_fields if k != "events"},
        "events": list(case.events.all()),
    }


@router.post("/bookings/{booking_id}/cases", response={201: CaseOut}, auth=bearer)
def open_case(request, booking_id: int, body: CaseIn):
    """Ask for money back on a finished, paid order: its settlement waits while the case is
    open."""
    case = cases.open_case(actor=request.auth, booking_id=booking_id, **body.dict())
    return Status(201, case_out(case))


@router.get("/cases/{case_id}", response=CaseOut, auth=bearer)
def get_case(request, case_id: int):
    """A case and its timeline: to its customer, the merchant's managers and operators."""
    case = Case.objects.filter(pk=case_id).first()
    if case is None or not cases.may_read(request.auth, case):
        raise DomainError("not_found")
    return case_out(case)


class StaffTextIn(Schema):
    text: str = Field(min_length=1, max_length=2000)


@staff_router.post("/merchants/{merchant_id}/cases/{case_id}/answer", response=CaseOut, auth=bearer)
def answer_case(request, merchant_id: int, case_id: int, body: StaffTextIn):
    """The merchant's answer to a case (owners and managers), once."""
    if not Case.objects.filter(pk=case_id, merchant_id=merchant_id).exists():
        raise DomainError("not_found")
    return case_out(cases.answer_case(actor=request.auth, case_id=case_id, text=body.text))


@staff_router.post(
    "/merchants/{merchant_id}/reviews/{review_id}/reply", response=ReviewOut, auth=bearer
)
def reply_review(request, merchant_id: int, review_id: int, body: StaffTextIn):
    """The merchant's one reply to a review of its orders."""
    from .models import Review

    if not Review.objects.filter(pk=review_id, merchant_id=merchant_id).exists():
        raise DomainError("not_found")
    return reviews.reply_review(actor=request.auth, review_id=review_id, text=body.text)


class CaseDecisionIn(Schema):
    refund_fen: int = Field(ge=0, le=100_000_000_00, description="0 closes without a refund")
    note: str = Field(min_length=1, max_length=300)


@ops_router.post("/cases/{case_id}/decide", response=CaseOut, auth=operator_bearer)
def decide_case(request, case_id: int, body: CaseDecisionIn):
    """Refund all or part of the order (paid once, whoever decides at the same time), or close
    with a note."""
    case = cases.decide_case(
        actor=request.auth, case_id=case_id, refund_fen=body.refund_fen, note=body.note
    )
    return case_out(case)


# --- chat ---------------------------------------------------------------------------------------


class ChatCardOut(Schema):
    id: int
    code: str
    status: str
    starts_at: dt.datetime


class ChatMessageOut(Schema):
    id: int
    side: str = Field(description="customer, provider or support")
    kind: str = Field(description="text, image or order")
    text: str
    image_url: str | None = Field(description="The picture, to the conversation's members only")
    card: ChatCardOut | None
    key: str
    mine: bool
    read: bool = Field(description="Of one's own: the other side has read it")
    created_at: dt.datetime


class ChatHistoryOut(Schema):
    messages: list[ChatMessageOut] = Field(description="Oldest first")
    more: bool = Field(description="Older messages exist: ask with before=<first id>")


class ConversationOut(Schema):
    id: int
    kind: str
    booking_id: int | None
    merchant_id: int | None
    last_message_at: dt.datetime | None
    last_text: str
    unread: int
    can_write: bool


class ChatSendIn(Schema):
    text: str = Field("", max_length=chat.MAX_TEXT)
    booking_id: int | None = Field(None, ge=1, description="Send this order's card")
    key: str = Field(
        min_length=1, max_length=64, description="The sender's key: a retry with it is one message"
    )


class ChatReadIn(Schema):
    up_to: int | None = Field(ge=1, description="Read up to this message (all if null)")


class ChatReadOut(Schema):
    marked: int


class SupportIn(Schema):
    merchant_id: int | None = Field(ge=1, description="null: the platform's support")


class UnreadOut(Schema):
    unread: int


def message_out(line: chat.Line) -> dict:
    m = line.message
    card = m.booking if m.booking_id else None
    return {
        "id": m.pk,
        "side": m.side,
        "kind": m.kind,
        "text": m.text,
        "image_url": f"/chat/pictures/{m.pk}/" if m.image else None,
        "card": card,
        "key": m.client_key,
        "mine": line.mine,
        "read": line.read,
        "created_at": m.created_at,
    }


def conversation_out(row: dict) -> dict:
    c = row["conversation"]
    return {
        "id": c.pk,
        "kind": c.kind,
        "booking_id": c.booking_id,
        "merchant_id": c.merchant_id,
        "last_message_at": c.last_message_at,
        "last_text": c.last_text,
        "unread": row["unread"],
        "can_write": chat.can_write(c),
    }


@router.get("/conversations", response=list[ConversationOut], auth=bearer)
def my_conversations(request):
    """One's conversations as a customer or a provider, newest first, with their unread."""
    return [conversation_out(r) for r in chat.my_conversations(actor=request.auth)]


@router.get("/conversations/unread", response=UnreadOut, auth=bearer)
def chat_unread(request):
    """How many messages one has not read, in every conversation."""
    return {"unread": chat.unread_count(request.auth.pk)}


@router.post("/bookings/{booking_id}/chat", response=ConversationOut, auth=bearer)
def open_order_chat(request, booking_id: int):
    """The order's conversation between its customer and its provider (from acceptance until
    some days after the order)."""
    conversation = chat.open_order_chat(actor=request.auth, booking_id=booking_id)
    return conversation_out({"conversation": conversation, "unread": 0})


@router.post("/support/conversations", response=ConversationOut, auth=bearer)
def open_support(request, body: SupportIn):
    """A customer's conversation with a merchant's support, or the platform's."""
    conversation = chat.open_support(actor=request.auth, merchant_id=body.merchant_id)
    return conversation_out({"conversation": conversation, "unread": 0})


@router.get("/conversations/{conversation_id}/messages", response=ChatHistoryOut, auth=bearer)
def chat_history(
    request,
    conversation_id: int,
    before: Annotated[int | None, Field(ge=1)] = None,
    limit: Annotated[int, Field(ge=1, le=100)] = 30,
):
    """A page of the conversation's messages, oldest first (older pages with `before`)."""
    _c, _side, lines, more = chat.history(
        actor=request.auth, conversation_id=conversation_id, before=before, limit=limit
    )
    return {"messages": [message_out(x) for x in lines], "more": more}


@router.post(
    "/conversations/{conversation_id}/messages",
    response={201: ChatMessageOut, 200: ChatMessageOut},
    auth=bearer,
)
def send_message(request, conversation_id: int, body: ChatSendIn):
    """Send text or an order's card (201); a retry with the same key answers 200 with the first
    message, and nothing is sent again. Phone numbers in the text are masked."""
    message, new = chat.send_message(
        actor=request.auth, conversation_id=conversation_id, **body.dict()
    )
    line = chat.Line(message, True, False)
    return Status(201 if new else 200, message_out(line))


@router.post("/conversations/{conversation_id}/read", response=ChatReadOut, auth=bearer)
def read_messages(request, conversation_id: int, body: ChatReadIn):
    """Mark what one was sent here as read (the other side sees it read)."""
    marked = chat.mark_read(actor=request.auth, conversation_id=conversation_id, up_to=body.up_to)
    return {"marked": marked}


@staff_router.get("/merchants/{merchant_id}/support", response=list[ConversationOut], auth=bearer)
def merchant_support_queue(request, merchant_id: int):
    """The merchant's support conversations for one of its staff: unread first."""
    rows = chat.support_queue(actor=request.auth, merchant_id=merchant_id)
    return [conversation_out(r) for r in rows]


@ops_router.get("/support", response=list[ConversationOut], auth=operator_bearer)
def platform_support_queue(request):
    """The platform's support conversations: unread first."""
    return [conversation_out(r) for r in chat.support_queue(actor=request.auth)]


@router.post(
    "/conversations/{conversation_id}/pictures",
    response={201: ChatMessageOut, 200: ChatMessageOut},
    auth=bearer,
)
def send_picture(
    request,
    conversation_id: int,
    key: str = Form(..., min_length=1, max_length=64),  # noqa: B008 - ninja's way
    file: UploadedFile | None = File(None),  # noqa: B008
):
    """Send a picture (the form field `file`: JPEG, PNG, WebP or GIF up to 10 MB, stored
    without its metadata) with the sender's `key` (a retry is one message)."""
    data = file.read(chat.MAX_IMAGE_BYTES + 1) if file is not None else b""
    if not data:
        raise DomainError("invalid_image", max_mb=chat.MAX_IMAGE_BYTES // 1024 // 1024)
    message, new = chat.send_message(
        actor=request.auth, conversation_id=conversation_id, image=data, key=key
    )
    return Status(201 if new else 200, message_out(chat.Line(message, True, False)))


# --- favourites and recommendations ------------------------------------------------------------

FavouriteKindIn = Literal["provider", "service", "merchant"]


class FavouriteOut(Schema):
    kind: str
    id: int
    name: str
    merchant_id: int | None


class FavouritesOut(Schema):
    providers: list[FavouriteOut]
    services: list[FavouriteOut]
    merchants: list[FavouriteOut]


class SavedOut(Schema):
    saved: bool


class SuggestionOut(Schema):
    service_id: int
    name: str
    merchant_id: int
    merchant: str
    price_fen: int
    why: str = Field(description="similar (booked by customers like you) or popular (nearby)")


def _favourite(kind: str, obj) -> dict:
    name = getattr(obj, "display_name", None) or obj.name
    return {
        "kind": kind,
        "id": obj.pk,
        "name": name,
        "merchant_id": getattr(obj, "merchant_id", None),
    }


@router.get("/favourites", response=FavouritesOut, auth=bearer)
def my_favourites(request):
    """One's saved providers, services and merchants, newest first."""
    found = favourites.favourites(actor=request.auth)
    return {f"{kind}s": [_favourite(kind, o) for o in objs] for kind, objs in found.items()}


@router.put("/favourites/{kind}/{target_id}", response=SavedOut, auth=bearer)
def save_favourite(request, kind: FavouriteKindIn, target_id: int):
    """Save a provider, service or merchant (saving again changes nothing)."""
    favourites.save(actor=request.auth, kind=kind, target_id=target_id)
    return {"saved": True}


@router.delete("/favourites/{kind}/{target_id}", response=SavedOut, auth=bearer)
def remove_favourite(request, kind: FavouriteKindIn, target_id: int):
    """Forget a saved one."""
    favourites.remove(actor=request.auth, kind=kind, target_id=target_id)
    return {"saved": False}


def _suggestion(service, why: str) -> dict:
    return {
        "service_id": service.pk,
        "name": service.name,
        "merchant_id": service.merchant_id,
        "merchant": service.merchant.name,
        "price_fen": service.base_price_fen,
        "why": why,
    }


@router.get("/recommendations", response=list[SuggestionOut], auth=bearer)
def recommendations(
    request,
    lat: Annotated[float | None, Field(ge=-90, le=90)] = None,
    lng: Annotated[float | None, Field(ge=-180, le=180)] = None,
):
    """Services for you near (lat, lng): what customers who booked what you booked also booked,
    then what is popular nearby."""
    found = favourites.recommend(actor=request.auth, lat=lat, lng=lng)
    return [_suggestion(s, why) for s, why in found]


@router.get("/book-again", response=list[SuggestionOut], auth=bearer)
def book_again(request):
    """The services of one's finished orders, the latest first."""
    return [_suggestion(s, "again") for s in favourites.book_again(actor=request.auth)]


class AnnouncementOut(Schema):
    id: int
    title: str
    body: str
    merchant_id: int | None
    starts_at: dt.datetime
    ends_at: dt.datetime


@router.get("/announcements", response=list[AnnouncementOut], auth=None)
def list_announcements(request, merchant_id: int | None = None):
    """What customers are told now: the platform's announcements, or with `merchant_id` that
    merchant's (its store page's), newest first."""
    from . import announcements
    from .models import Audience

    if merchant_id is None:
        return announcements.current(Audience.CUSTOMERS)
    return announcements.current(Audience.CUSTOMERS, merchant_ids=[merchant_id], platform=False)


@router.get("/provider/announcements", response=list[AnnouncementOut], auth=bearer)
def provider_announcements(request):
    """What a provider is told now: the platform's and their merchant's."""
    from yuyue.accounts.models import Provider

    from . import announcements
    from .models import Audience

    provider = Provider.objects.filter(user=request.auth).first()
    if provider is None:
        raise DomainError("forbidden")
    mine = [provider.merchant_id] if provider.merchant_id else []
    return announcements.current(Audience.PROVIDERS, merchant_ids=mine)
