from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.urls import path

from yuyue.accounts.tokens import user_for_token
from yuyue.calls.consumers import CallConsumer

from .consumers import TrackConsumer

websocket_urlpatterns = [
    path("ws/bookings/<int:booking_id>/track/", TrackConsumer.as_asgi()),
    path("ws/calls/<int:booking_id>/", CallConsumer.as_asgi()),
]


class TokenAuthMiddleware:
    """Bearer token from `?token=` or the Sec-WebSocket-Protocol header (a mini-program cannot
    set Authorization on a socket)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        token = parse_qs(scope.get("query_string", b"").decode()).get("token", [""])[0]
        if not token:
            for name, value in scope.get("headers", []):
                if name == b"sec-websocket-protocol":
                    token = value.decode().split(",")[-1].strip()
        scope = dict(scope, user=await database_sync_to_async(user_for_token)(token))
        return await self.app(scope, receive, send)
