"""`ws/chat/<conversation_id>/`: a conversation's open pages (and app clients) live.

Only its customer, its provider or its desk's agents get in (anyone else is closed with 4403).

client → server  {"type": "send", "text": ..., "key": ..., "booking_id": optional}
                 (the key makes a resend after a dropped connection the same message);
                 {"type": "read", "up_to": <message id>}
server → client  {"type": "ready", "side": ...} first; {"type": "sent", ...} to the sender
                 (the message as stored: its id, and its text with phone numbers masked);
                 {"type": "message", ...} (every new message, to every open page of the
                 conversation, the sender's own included); {"type": "read", "side", "up_to"};
                 {"type": "refused", "key", "code", "detail"} when a send is refused.
"""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from yuyue.core.errors import DomainError

from . import chat
from .models import Conversation


def _side(user, conversation_id: int) -> str | None:
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    return chat.side_of(user, conversation) if conversation is not None else None


class ChatConsumer(AsyncJsonWebsocketConsumer):
    side: str | None = None

    async def connect(self):
        self.conversation_id = int(self.scope["url_route"]["kwargs"]["conversation_id"])
        self.user = self.scope.get("user")
        self.side = await database_sync_to_async(_side)(self.user, self.conversation_id)
        await self.accept()
        if self.side is None:  # closed after accepting: a browser sees the code
            await self.close(code=4403)
            return
        self.group = chat.group_name(self.conversation_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.send_json({"type": "ready", "side": self.side})

    async def disconnect(self, code):
        if self.side is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if self.side is None or not isinstance(content, dict):
            return
        kind = content.get("type")
        if kind == "send":
            await self._send(content)
        elif kind == "read":
            up_to = content.get("up_to")
            if up_to is None or (isinstance(up_to, int) and not isinstance(up_to, bool)):
                await database_sync_to_async(chat.mark_read)(
                    actor=self.user, conversation_id=self.conversation_id, up_to=up_to
                )

    async def _send(self, content: dict):
        key = content.get("key") if isinstance(content.get("key"), str) else None
        text = content.get("text") if isinstance(content.get("text"), str) else ""
        booking_id = content.get("booking_id")
        if not (booking_id is None or (isinstance(booking_id, int) and booking_id > 0)):
            booking_id = None
        pushes: list = []
        try:
            message, _new = await database_sync_to_async(chat.send_message)(
                actor=self.user,
                conversation_id=self.conversation_id,
                text=text,
                booking_id=booking_id,
                key=key,
                pushes=pushes,
            )
        except DomainError as exc:
            await self.send_json(
                {"type": "refused", "key": key, "code": exc.code, "detail": exc.message()}
            )
            return
        await self.send_json({**chat.as_event(message), "type": "sent"})
        for group, event in pushes:  # from the loop: the database thread is free already
            await self.channel_layer.group_send(group, event)

    async def chat_event(self, event):
        await self.send_json(event["payload"])
