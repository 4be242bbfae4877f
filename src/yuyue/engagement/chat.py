"""Chat: an order's customer and provider talk from acceptance until some days after the order
(`YUYUE_CHAT_DAYS_AFTER`), and a customer talks with a merchant's support (its staff) or the
platform's (operators).

Each message is stored once, with one `Receipt` per recipient (Zulip's UserMessage): a person's
unread messages are their receipts without `read_at`, found through a partial index. Support is
a desk: a customer's message reaches every agent of it, and one agent reading it reads it for
the desk (the customer sees it read). A send carries the sender's key; a retry with the same key
is the same message (a unique row per sender and key). Phone numbers are masked before the text
is stored, as the platforms do. What changed is pushed after commit to the conversation's group
(open chat pages) and to each recipient's notices group (their badges)."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from yuyue.accounts.models import MerchantStaff, User
from yuyue.accounts.profile import masked_name
from yuyue.catalog.models import Merchant
from yuyue.core.controls import race_control
from yuyue.core.errors import DomainError
from yuyue.core.images import clean_image
from yuyue.notifications import live
from yuyue.orders.models import Booking, BookingStatus

from .models import (
    Conversation,
    ConversationKind,
    Message,
    MessageKind,
    Receipt,
    UnreadCount,
)

MAX_TEXT = 2000
MAX_IMAGE_BYTES = 10 * 1024 * 1024
LIVE = {  # an order chat can be written in these states (and completed, for some days)
    BookingStatus.BOOKED,
    BookingStatus.ACCEPTED,
    BookingStatus.DEPARTED,
    BookingStatus.ARRIVED,
    BookingStatus.IN_SERVICE,
    BookingStatus.CHECKED_IN,
}
ENDED = {BookingStatus.COMPLETED}

# a mainland mobile number (with +86, spaces or dashes) and a landline with its area code
MOBILE = re.compile(r"(?<!\d)(?:\+?86[\s-]?)?(1[3-9]\d)[\s-]?\d{4}[\s-]?(\d{4})(?!\d)")
LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[\s-]?\d{3,4}[\s-]?(\d{4})(?!\d)")


def mask_phones(text: str) -> str:
    """`13812345678` → `138****5678`; `021-6234 5678` → `021-****5678`."""
    text = MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)
    return LANDLINE.sub(lambda m: f"{m.group(1)}-****{m.group(2)}", text)


def group_name(conversation_id: int) -> str:
    return f"chat.{conversation_id}"


# --- who is in a conversation -----------------------------------------------------------------


def side_of(user, conversation: Conversation) -> str | None:
    """customer, provider or support; None for anyone else."""
    user_id = getattr(user, "pk", None)
    if user_id is None:
        return None
    if user_id == conversation.customer_id:
        return "customer"
    if conversation.kind == ConversationKind.ORDER:
        return "provider" if user_id == conversation.provider_user_id else None
    if conversation.merchant_id is None:
        return "support" if getattr(user, "is_operator", False) else None
    is_staff = MerchantStaff.objects.filter(
        user_id=user_id, merchant_id=conversation.merchant_id
    ).exists()
    return "support" if is_staff else None


def desk_agents(merchant_id: int | None) -> list[int]:
    """Who answers a support desk: the merchant's staff, or the platform's operators."""
    if merchant_id is None:
        return list(
            User.objects.filter(is_operator=True, is_active=True).values_list("pk", flat=True)
        )
    return list(
        MerchantStaff.objects.filter(merchant_id=merchant_id, user__is_active=True).values_list(
            "user_id", flat=True
        )
    )


def _conversation_for(actor, conversation_id: int) -> tuple[Conversation, str]:
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    side = side_of(actor, conversation) if conversation is not None else None
    if side is None:  # another's conversation is not found, not forbidden
        raise DomainError("not_found")
    return conversation, side


def _recipients(conversation: Conversation, side: str) -> list[int]:
    if side == "customer":
        if conversation.kind == ConversationKind.ORDER:
            return [conversation.provider_user_id]
        return desk_agents(conversation.merchant_id)
    return [conversation.customer_id]


def _readers(conversation: Conversation, side: str, user_id: int) -> list[int]:
    """Whose receipts one person's reading marks: their own, or the whole desk's."""
    if side == "support":
        return desk_agents(conversation.merchant_id)
    return [user_id]


# --- opening ----------------------------------------------------------------------------------


def open_order_chat(*, actor, booking_id: int) -> Conversation:
    """The order's conversation (made on first use) for its customer or its provider."""
    booking = Booking.objects.select_related("provider").filter(pk=booking_id).first()
    user_id = getattr(actor, "pk", None)
    provider_user = booking.provider.user_id if booking and booking.provider else None
    if booking is None or user_id not in (booking.customer_id, provider_user):
        raise DomainError("not_found")
    if provider_user is None:
        raise DomainError("chat_unavailable")
    found = Conversation.objects.filter(kind=ConversationKind.ORDER, booking=booking).first()
    if found is not None:
        if found.provider_user_id != provider_user:  # the order went to another provider
            Conversation.objects.filter(pk=found.pk).update(provider_user_id=provider_user)
            found.provider_user_id = provider_user
        return found
    _writable(booking)
    try:
        with transaction.atomic():
            return Conversation.objects.create(
                kind=ConversationKind.ORDER,
                booking=booking,
                customer_id=booking.customer_id,
                provider_user_id=provider_user,
                merchant_id=booking.merchant_id,
            )
    except IntegrityError:  # both sides opened it at once
        return Conversation.objects.get(kind=ConversationKind.ORDER, booking=booking)


def open_support(*, actor, merchant_id: int | None = None) -> Conversation:
    """A customer's conversation with a merchant's support, or the platform's (no merchant)."""
    if getattr(actor, "pk", None) is None:
        raise DomainError("auth_required")
    if merchant_id is not None and not Merchant.objects.filter(pk=merchant_id).exists():
        raise DomainError("not_found")
    return Conversation.objects.get_or_create(
        kind=ConversationKind.SUPPORT, customer_id=actor.pk, merchant_id=merchant_id
    )[0]


def _writable(booking: Booking | None) -> None:
    days = settings.YUYUE_CHAT_DAYS_AFTER
    if booking is None or booking.status in LIVE:
        return
    if booking.status in ENDED and booking.ends_at >= timezone.now() - dt.timedelta(days=days):
        return
    if booking.status in (BookingStatus.AWAITING_PAYMENT, BookingStatus.AWAITING_PROVIDER):
        raise DomainError("chat_unavailable")
    raise DomainError("chat_closed", days=days)


def order_chat_open(booking: Booking) -> bool:
    """Can this order's customer and provider talk now (a page shows its chat button)?"""
    if booking.provider_id is None:
        return False
    try:
        _writable(booking)
    except DomainError:
        return False
    return True


def title_of(conversation: Conversation, side: str) -> str:
    """Who the other side is, as a page names them: the provider, the customer's first name,
    the merchant's desk, or the platform's support (empty: the page says it)."""
    if side == "support":
        return conversation.customer.name or ""
    if conversation.kind == ConversationKind.ORDER:
        if side == "customer":
            provider = getattr(conversation.provider_user, "provider", None)
            return provider.display_name if provider else conversation.provider_user.name
        return masked_name(conversation.customer.name)
    return conversation.merchant.name if conversation.merchant_id else ""


def can_write(conversation: Conversation) -> bool:
    if conversation.kind != ConversationKind.ORDER:
        return True
    try:
        _writable(Booking.objects.filter(pk=conversation.booking_id).first())
    except DomainError:
        return False
    return True


# --- sending and reading ----------------------------------------------------------------------


def send_message(
    *,
    actor,
    conversation_id: int,
    text: str = "",
    image: bytes | None = None,
    booking_id: int | None = None,
    key: str | None = None,
    pushes: list | None = None,
) -> tuple[Message, bool]:
    """Send text, a picture, or an order's card; (the message, whether it is new). A retry with
    the same key gives back the first message and changes nothing. The pushes to open pages go
    out after commit; given `pushes`, they are put there instead, as (group, event), for a
    caller on the event loop to send (the socket: the database thread moves on at once)."""
    conversation, side = _conversation_for(actor, conversation_id)
    key = (key or "").strip() or uuid.uuid4().hex
    if len(key) > 64:
        raise DomainError("invalid_input", "key is at most 64 characters.")
    earlier = Message.objects.filter(sender_id=actor.pk, client_key=key).first()
    if earlier is not None:
        return _same(earlier, conversation_id), False
    text = (text or "").strip()
    if len(text) > MAX_TEXT:
        raise DomainError("message_too_long", max=MAX_TEXT)
    card = None
    if booking_id is not None:
        card = Booking.objects.filter(pk=booking_id, customer_id=conversation.customer_id).first()
        if card is None:
            raise DomainError("not_found")
    if not text and image is None and card is None:
        raise DomainError("message_empty")
    if conversation.kind == ConversationKind.ORDER:
        _writable(Booking.objects.filter(pk=conversation.booking_id).first())
    picture = clean_image(image, max_bytes=MAX_IMAGE_BYTES, max_side=1600) if image else None
    kind = MessageKind.IMAGE if picture else MessageKind.ORDER if card else MessageKind.TEXT
    recipients = _recipients(conversation, side)
    naive = race_control("chat_send")  # the control's pause between the check and the insert
    if naive is not None:
        naive()
    try:
        with transaction.atomic():
            message = Message(
                conversation=conversation,
                sender_id=actor.pk,
                side=side,
                kind=kind,
                text=mask_phones(text),
                booking=card,
                client_key=key,
            )
            if picture:
                message.image.save(f"{uuid.uuid4().hex}.jpg", ContentFile(picture), save=False)
            message.save()
            Receipt.objects.bulk_create(
                Receipt(user_id=u, message=message, conversation=conversation) for u in recipients
            )
            _count_unread({u: 1 for u in recipients})
            Conversation.objects.filter(pk=conversation.pk).update(
                last_message_at=message.created_at,
                last_text=message.text[:120],
                last_kind=message.kind,
            )
            out = _message_pushes(message, recipients)
            if pushes is None:
                transaction.on_commit(lambda: [live.push(g, e) for g, e in out])
            else:
                transaction.on_commit(lambda: pushes.extend(out))
    except IntegrityError:  # the same key sent twice at once: the other one was written
        earlier = Message.objects.filter(sender_id=actor.pk, client_key=key).first()
        if earlier is None:
            raise
        return _same(earlier, conversation_id), False
    return message, True


def _same(earlier: Message, conversation_id: int) -> Message:
    if earlier.conversation_id != conversation_id:
        raise DomainError("key_reused")
    return earlier


def mark_read(*, actor, conversation_id: int, up_to: int | None = None) -> int:
    """Read what this person (or their desk) was sent here, up to message `up_to` (all if
    None); how many receipts it marked. The other side's pages are told."""
    conversation, side = _conversation_for(actor, conversation_id)
    unread = Receipt.objects.filter(
        conversation_id=conversation.pk,
        user_id__in=_readers(conversation, side, actor.pk),
        read_at__isnull=True,
    )
    if up_to is not None:
        unread = unread.filter(message_id__lte=up_to)
    last = unread.order_by("-message_id").values_list("message_id", flat=True).first()
    if last is None:
        return 0
    now, marked, lowered = timezone.now(), 0, {}
    with transaction.atomic():
        for user_id in sorted(_readers(conversation, side, actor.pk)):
            n = unread.filter(user_id=user_id, message_id__lte=last).update(read_at=now)
            if n:
                lowered[user_id] = -n
                marked += n
        _count_unread(lowered)
    if marked:
        transaction.on_commit(lambda: _push_read(conversation.pk, side, last, actor.pk))
    return marked


def unread_count(user_id: int) -> int:
    """A person's unread messages, every conversation: one row (`UnreadCount`)."""
    return UnreadCount.objects.filter(user_id=user_id).values_list("count", flat=True).first() or 0


def _count_unread(changes: dict[int, int]) -> None:
    """Raise (one upsert that adds to what is there) or lower people's unread counts in the
    caller's transaction, rows in key order."""
    table = UnreadCount._meta.db_table
    raised = sorted((u, n) for u, n in changes.items() if n > 0)
    with connection.cursor() as cursor:
        if raised:
            values = ", ".join(["(%s, %s)"] * len(raised))
            cursor.execute(
                f"INSERT INTO {table} (user_id, count) VALUES {values} "  # noqa: S608 - our names
                f"ON CONFLICT (user_id) DO UPDATE SET count = {table}.count + excluded.count",
                [x for row in raised for x in row],
            )
        for user_id, n in sorted(changes.items()):
            if n < 0:
                cursor.execute(
                    f"UPDATE {table} SET count = count + %s WHERE user_id = %s",  # noqa: S608
                    [n, user_id],
                )


# --- reading history and lists ----------------------------------------------------------------


@dataclass
class Line:
    message: Message
    mine: bool
    read: bool  # for one's own: the other side has read it


def history(*, actor, conversation_id: int, before: int | None = None, limit: int | None = None):
    """(conversation, side, lines oldest first, whether older ones exist)."""
    conversation, side = _conversation_for(actor, conversation_id)
    limit = max(1, min(limit or settings.YUYUE_CHAT_PAGE, 100))
    rows = Message.objects.filter(conversation_id=conversation.pk).select_related(
        "booking__service"
    )
    if before is not None:
        rows = rows.filter(pk__lt=before)
    page = list(
        rows.annotate(unread=Count("receipts", filter=Q(receipts__read_at__isnull=True))).order_by(
            "-pk"
        )[: limit + 1]
    )
    more = len(page) > limit
    page = page[:limit][::-1]
    lines = [Line(m, m.side == side, m.unread == 0) for m in page]
    return conversation, side, lines, more


def my_conversations(*, actor) -> list[dict]:
    """The person's own conversations (as customer or provider), newest first, with unread."""
    user_id = actor.pk
    rows = (
        Conversation.objects.filter(Q(customer_id=user_id) | Q(provider_user_id=user_id))
        .select_related("booking__service", "merchant", "customer")
        .order_by("-last_message_at", "-pk")[:100]
    )
    return _with_unread(list(rows), user_id)


def support_queue(*, actor, merchant_id: int | None = None) -> list[dict]:
    """A desk's conversations for one of its agents: those with unread first, then newest."""
    probe = Conversation(kind=ConversationKind.SUPPORT, merchant_id=merchant_id, customer_id=0)
    if side_of(actor, probe) != "support":
        raise DomainError("forbidden")
    rows = list(
        Conversation.objects.filter(kind=ConversationKind.SUPPORT, merchant_id=merchant_id)
        .exclude(last_message_at=None)
        .select_related("customer")
        .order_by("-last_message_at")[:200]
    )
    found = _with_unread(rows, actor.pk)
    return sorted(found, key=lambda r: r["unread"] == 0)  # stable: newest first within


def _with_unread(rows: list[Conversation], user_id: int) -> list[dict]:
    counts = dict(
        Receipt.objects.filter(
            user_id=user_id, read_at__isnull=True, conversation_id__in=[c.pk for c in rows]
        )
        .values("conversation_id")
        .annotate(n=Count("pk"))
        .values_list("conversation_id", "n")
    )
    return [{"conversation": c, "unread": counts.get(c.pk, 0)} for c in rows]


# --- telling open pages -----------------------------------------------------------------------


def as_event(message: Message) -> dict:
    card = None
    if message.booking_id:
        b = message.booking
        card = {
            "id": b.pk,
            "code": b.code,
            "status": b.status,
            "starts_at": b.starts_at.isoformat(),
        }
    return {
        "type": "message",
        "id": message.pk,
        "conversation": message.conversation_id,
        "side": message.side,
        "kind": message.kind,
        "text": message.text,
        "image": bool(message.image),
        "card": card,
        "key": message.client_key,
        "at": message.created_at.isoformat(),
    }


def _message_pushes(message: Message, recipients: list[int]) -> list[tuple[str, dict]]:
    event = {"type": "chat.event", "payload": as_event(message)}
    return [(group_name(message.conversation_id), event), *map(live.ping_event, recipients)]


def _push_read(conversation_id: int, side: str, up_to: int, reader_id: int) -> None:
    payload = {"type": "read", "side": side, "up_to": up_to}
    live.push(group_name(conversation_id), {"type": "chat.event", "payload": payload})
    live.ping(reader_id)
