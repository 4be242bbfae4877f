"""Websocket for live tracking: `ws/bookings/<id>/track/?token=<bearer token>`."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from yuyue.orders.models import Booking

from . import tracking


class TrackConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        self.booking_id = int(self.scope["url_route"]["kwargs"]["booking_id"])
        first = await self._first_snapshot(user)
        if first is None:
            await self.close(code=4403)  # strangers learn nothing, not even whether it exists
            return
        await self.channel_layer.group_add(tracking.group_name(self.booking_id), self.channel_name)
        await self.accept()
        await self.send_json(first)

    @database_sync_to_async
    def _first_snapshot(self, user):
        booking = Booking.objects.filter(pk=self.booking_id).first()
        if user is None or booking is None or not tracking.may_watch(user, booking):
            return None
        return tracking.latest(actor=user, booking_id=self.booking_id)

    async def disconnect(self, code):
        await self.channel_layer.group_discard(
            tracking.group_name(self.booking_id), self.channel_name
        )

    async def track_update(self, event):
        await self.send_json(event["payload"])

    async def receive_json(self, content, **kwargs):
        pass  # watchers only listen; providers post positions over HTTP
