"""Websocket for live tracking: `ws/bookings/<id>/track/?token=<bearer token>`."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from yuyue.orders.models import Booking

from . import offers_live, tracking


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


class OffersConsumer(AsyncJsonWebsocketConsumer):
    """`ws/provider/offers/`: a provider's new offers as they are made (signed in by the page's
    session or a bearer token); anyone who is not a provider is turned away."""

    async def connect(self):
        self.provider_id = await self._provider_id(self.scope.get("user"))
        if self.provider_id is None:
            await self.close(code=4403)
            return
        await self.channel_layer.group_add(
            offers_live.group_name(self.provider_id), self.channel_name
        )
        await self.accept()
        await self.send_json({"event": "ready"})

    @database_sync_to_async
    def _provider_id(self, user):
        from yuyue.accounts.models import Provider

        if user is None or not getattr(user, "is_authenticated", False):
            return None
        return Provider.objects.filter(user_id=user.pk).values_list("pk", flat=True).first()

    async def disconnect(self, code):
        if getattr(self, "provider_id", None) is not None:
            await self.channel_layer.group_discard(
                offers_live.group_name(self.provider_id), self.channel_name
            )

    async def offer_event(self, event):
        await self.send_json(event["payload"])

    async def receive_json(self, content, **kwargs):
        pass  # answers go over HTTP, through the same service functions as the API
