"""Signing in on a websocket: the bearer token of the API, sent where a socket can carry it."""

from __future__ import annotations

from urllib.parse import parse_qs

from channels.db import database_sync_to_async

from .tokens import user_for_token


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
