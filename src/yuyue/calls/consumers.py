"""The call's room: `ws/calls/<booking_id>/?token=<bearer token>`.

Only the booking's customer and consultant get in (anyone else is closed with 4403 and learns
nothing). Connecting is joining; closing is leaving. The socket carries:

client → server  {"type": "heartbeat", "media": <RTCPeerConnection.connectionState>} every
                 second; {"type": "media", "state": ...} whenever that state changes;
                 {"type": "signal", "data": {...}} (WebRTC offer / answer / ICE candidate,
                 relayed to the other side as is); {"type": "hangup"}
server → client  {"type": "hello", "party": "customer"|"consultant", "ice_servers": [...]}
                 first (STUN/TURN with this side's own short-lived TURN credentials);
                 {"type": "state", ...} the meter (elapsed, cost so far, time left) after every
                 change and every tick; {"type": "signal", "from": "customer"|"consultant",
                 "data": {...}}; {"type": "warning", "seconds_left", "reason"};
                 {"type": "blocked", "reason": "insufficient_funds"}; {"type": "ended", ...}

While connected, each side's consumer ticks the call every YUYUE_CALL_TICK_SECONDS on the
server's clock (the tick is idempotent under the call's row lock), so limits and silent sides are
noticed even when nobody speaks; the worker's sweep covers calls nobody is connected to. A
heartbeat is noted in memory and written with the next tick (one transaction a side a tick,
however often pages beat); a change of the audio's state is written at once.
"""

from __future__ import annotations

import asyncio
import contextlib

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings
from django.utils import timezone

from yuyue.core.errors import DomainError
from yuyue.orders.models import Booking

from . import media, services


def group_name(booking_id: int) -> str:
    return f"call.{booking_id}"


class CallConsumer(AsyncJsonWebsocketConsumer):
    party: str | None = None
    ticker: asyncio.Task | None = None
    beat_at = None  # when this side's last heartbeat arrived, not yet written
    media: str | None = None  # this side's audio state, as its page last said

    async def connect(self):
        self.booking_id = int(self.scope["url_route"]["kwargs"]["booking_id"])
        user = self.scope.get("user")
        self.party = await self._party(user)
        await self.accept()  # then close with a code a browser can read (a refused handshake
        if self.party is None:  # shows as 1006 there); nothing about the call is sent
            await self.close(code=4403)
            return
        try:
            update = await database_sync_to_async(services.join)(
                actor=user, booking_id=self.booking_id
            )
        except DomainError as exc:
            if exc.code == "call_over":  # reopened after the end: show its bill, then close
                await self._send_bill()
            else:
                await self.send_json({"type": "refused", "code": exc.code, "detail": exc.message()})
            await self.close(code=4409)
            self.party = None
            return
        await self.channel_layer.group_add(group_name(self.booking_id), self.channel_name)
        await self.send_json(
            {"type": "hello", "party": self.party, "ice_servers": media.ice_servers(user.pk)}
        )
        await self._broadcast(update)
        self.ticker = asyncio.create_task(self._tick_forever())

    async def _send_bill(self):
        """The call as it ended (brought up to date first: a call past its rejoin window is
        ended by this look, as the sweep would), to this side only."""
        update = await database_sync_to_async(services.tick)(booking_id=self.booking_id)
        final = update.snapshot
        await self.send_json({"type": "state", **final})
        await self.send_json(
            {
                "type": "ended",
                "reason": final["end_reason"],
                "seconds": final["metered_seconds"] or 0,
                "charged_fen": final["charged_fen"] or 0,
            }
        )

    @database_sync_to_async
    def _party(self, user):
        booking = Booking.objects.select_related("provider").filter(pk=self.booking_id).first()
        if booking is None:
            return None
        return services.party_of(user, booking)

    async def disconnect(self, code):
        if self.ticker is not None:
            self.ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self.ticker
        if self.party is None:
            return
        await self.channel_layer.group_discard(group_name(self.booking_id), self.channel_name)
        with contextlib.suppress(DomainError):
            update = await database_sync_to_async(services.leave)(
                actor=self.scope["user"], booking_id=self.booking_id
            )
            await self._broadcast(update)

    async def receive_json(self, content, **kwargs):
        if self.party is None or not isinstance(content, dict):
            return
        kind = content.get("type")
        user = self.scope["user"]
        if kind in ("heartbeat", "media"):
            state = content.get("media" if kind == "heartbeat" else "state")
            state = state if state in services.MEDIA_STATES else None
            self.beat_at = timezone.now()
            if state is None or state == self.media:
                return  # written with the next tick
            self.media = state
            update = await database_sync_to_async(services.heartbeat)(
                actor=user, booking_id=self.booking_id, media=state
            )
            self.beat_at = None
            await self._broadcast(update)
        elif kind == "signal" and isinstance(content.get("data"), dict):
            await self.channel_layer.group_send(
                group_name(self.booking_id),
                {
                    "type": "call.signal",
                    "sender": self.channel_name,
                    "party": self.party,
                    "data": content["data"],
                },
            )
        elif kind == "hangup":
            update = await database_sync_to_async(services.hangup)(
                actor=user, booking_id=self.booking_id
            )
            await self._broadcast(update)

    async def _tick_forever(self):
        while True:
            await asyncio.sleep(settings.YUYUE_CALL_TICK_SECONDS)
            if self.beat_at is not None:
                beat, self.beat_at = self.beat_at, None
                update = await database_sync_to_async(services.heartbeat)(
                    actor=self.scope["user"],
                    booking_id=self.booking_id,
                    media=self.media,
                    seen_at=beat,
                )
            else:
                update = await database_sync_to_async(services.tick)(booking_id=self.booking_id)
            await self._broadcast(update)
            if update.snapshot["status"] in ("ended", "missed"):
                return

    async def _broadcast(self, update: services.Update):
        state = {"type": "state", **update.snapshot}
        for message in [*update.messages, state]:
            await self.channel_layer.group_send(
                group_name(self.booking_id), {"type": "call.message", "payload": message}
            )

    async def call_message(self, event):
        await self.send_json(event["payload"])

    async def call_signal(self, event):
        if event["sender"] != self.channel_name:
            await self.send_json({"type": "signal", "from": event["party"], "data": event["data"]})
