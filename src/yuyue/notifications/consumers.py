"""`ws/notices/`: a signed-in person's pages hear that their notices changed."""

from __future__ import annotations

from channels.generic.websocket import AsyncJsonWebsocketConsumer

from . import live


class NoticesConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        user = self.scope.get("user")
        if user is None or not getattr(user, "is_authenticated", False):
            await self.close(code=4403)
            return
        self.user_id = user.pk
        await self.channel_layer.group_add(live.group_name(self.user_id), self.channel_name)
        await self.accept()
        await self.send_json({"event": "ready"})

    async def disconnect(self, code):
        if getattr(self, "user_id", None) is not None:
            await self.channel_layer.group_discard(live.group_name(self.user_id), self.channel_name)

    async def notices_changed(self, event):
        await self.send_json(event["payload"])

    async def receive_json(self, content, **kwargs):
        pass
