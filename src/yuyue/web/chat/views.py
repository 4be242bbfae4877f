"""Chat pages, one set for every side (`engagement.chat`): a customer's or provider's list of
conversations, a conversation (history in pages, live over `ws/chat/<id>/`, sends that a
dropped connection resends with the same key, read marks), and the pictures sent in one (to its
members only). A desk's queue is on the merchant's and the operators' own pages."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST

from yuyue.core.errors import DomainError
from yuyue.core.timeutil import zone
from yuyue.engagement import chat
from yuyue.engagement.models import Conversation, ConversationKind, Message
from yuyue.orders.models import Booking
from yuyue.web.helpers import flash, uploaded_pictures

SIGN_IN = "customer:sign-in"


def _to(conversation_id: int) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("chat:conversation", args=[conversation_id]))


def badge(request):
    """The header's count of unread messages (asked again when a notice ping arrives)."""
    return render(request, "web/chat/_badge.html")


@login_required(login_url=SIGN_IN)
def conversations(request):
    """One's conversations as a customer or a provider, newest first, unread marked."""
    rows = chat.my_conversations(actor=request.user)
    for row in rows:
        c = row["conversation"]
        side = "customer" if c.customer_id == request.user.pk else "provider"
        row["title"] = chat.title_of(c, side)
    return render(request, "web/chat/list.html", {"rows": rows, "zone": zone(settings.TIME_ZONE)})


@login_required(login_url=SIGN_IN)
@require_POST
def open_order(request, booking_id: int):
    try:
        conversation = chat.open_order_chat(actor=request.user, booking_id=booking_id)
    except DomainError as exc:
        if exc.code == "not_found":
            raise Http404 from exc
        flash(request, exc.message(), "error")
        return HttpResponseRedirect(request.POST.get("back") or reverse("chat:list"))
    return _to(conversation.pk)


@login_required(login_url=SIGN_IN)
@require_POST
def open_support(request):
    """A customer's conversation with a merchant's desk (`merchant`: its id) or the platform's."""
    raw = request.POST.get("merchant") or ""
    merchant_id = int(raw) if raw.isdigit() else None
    if raw and merchant_id is None:
        raise Http404
    try:
        conversation = chat.open_support(actor=request.user, merchant_id=merchant_id)
    except DomainError as exc:
        raise Http404 from exc
    return _to(conversation.pk)


def _cards(conversation: Conversation, side: str) -> list[Booking]:
    """The orders the customer may send as a card here: the order of an order chat, or their
    latest orders with the desk's merchant (any, for the platform's desk)."""
    if side != "customer":
        return []
    if conversation.kind == ConversationKind.ORDER:
        return [conversation.booking]
    mine = Booking.objects.filter(customer_id=conversation.customer_id).select_related("service")
    if conversation.merchant_id:
        mine = mine.filter(merchant_id=conversation.merchant_id)
    return list(mine.order_by("-starts_at")[:10])


@login_required(login_url=SIGN_IN)
def conversation(request, conversation_id: int):
    """The conversation: GET shows the newest page (older ones with ?before=) and reads what
    was sent to this person; POST sends text, a picture or an order's card (the page without
    its script, and every picture)."""
    if request.method == "POST":
        return _send(request, conversation_id)
    before = request.GET.get("before") or ""
    try:
        found, side, lines, more = chat.history(
            actor=request.user,
            conversation_id=conversation_id,
            before=int(before) if before.isdigit() else None,
        )
    except DomainError as exc:
        raise Http404 from exc
    if lines and not before:
        chat.mark_read(actor=request.user, conversation_id=found.pk, up_to=lines[-1].message.pk)
    booking = found.booking if found.booking_id else None
    merchant = found.merchant if found.merchant_id else (booking.merchant if booking else None)
    tz = zone(merchant.timezone) if merchant else zone("Asia/Shanghai")
    for line in lines:
        line.at = line.message.created_at.astimezone(tz)
    return render(
        request,
        "web/chat/conversation.html",
        {
            "c": found,
            "side": side,
            "title": chat.title_of(found, side),
            "lines": lines,
            "more": more,
            "older": lines[0].message.pk if lines and more else None,
            "booking": booking,
            "writable": chat.can_write(found),
            "cards": _cards(found, side),
            "key": uuid.uuid4().hex,
            "zone": tz,
            "zone_name": str(tz),
            "flash": request.session.pop("flash", None),
        },
    )


def _send(request, conversation_id: int):
    card = request.POST.get("card") or ""
    try:
        pictures = uploaded_pictures(request, "picture")
        chat.send_message(
            actor=request.user,
            conversation_id=conversation_id,
            text=request.POST.get("text", "") if not pictures and not card else "",
            image=pictures[0] if pictures else None,
            booking_id=int(card) if card.isdigit() else None,
            key=request.POST.get("key") or None,
        )
    except DomainError as exc:
        if exc.code == "not_found" and not card:
            raise Http404 from exc
        flash(request, exc.message(), "error")
    return _to(conversation_id)


@login_required(login_url=SIGN_IN)
def picture(request, message_id: int):
    """A picture sent in a conversation: to its members only."""
    message = Message.objects.select_related("conversation").filter(pk=message_id).first()
    if message is None or not message.image:
        raise Http404
    if chat.side_of(request.user, message.conversation) is None:
        raise Http404
    response = FileResponse(message.image.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=3600"
    return response
