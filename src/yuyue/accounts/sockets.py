"""Signing in on a websocket: the bearer token of the API, sent where a socket can carry it."""

from __future__ import annotations

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.security.websocket import AllowedHostsOriginValidator

from .tokens import user_for_token


class TokenAuthMiddleware:
    """Bearer token from `?token=` or the Sec-WebSocket-Protocol header (a mini-program cannot
    set Authorization on a socket). Without a token, the person signed in to the pages' session
    (Channels' session and auth middleware below this one), if any: the pages open their
    sockets that way, their origin checked by `BrowserOriginValidator`."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        token = parse_qs(scope.get("query_string", b"").decode()).get("token", [""])[0]
        if not token:
            for name, value in scope.get("headers", []):
                if name == b"sec-websocket-protocol":
                    token = value.decode().split(",")[-1].strip()
        if token:
            user = await database_sync_to_async(user_for_token)(token)
        else:
            session_user = scope.get("user")
            user = session_user if getattr(session_user, "is_authenticated", False) else None
        scope = dict(scope, user=user)
        return await self.app(scope, receive, send)


class BrowserOriginValidator:
    """A browser always sends `Origin` with a websocket; it is checked against ALLOWED_HOSTS, so
    another site's page cannot open a socket with a visitor's stored token (cross-site websocket
    hijacking). A client that sends none is not a browser (a mini-program, a native app): no
    other site speaks through it, and its token decides alone, as on the HTTP API."""

    def __init__(self, app):
        self.app = app
        self.checked = AllowedHostsOriginValidator(app)

    async def __call__(self, scope, receive, send):
        if any(name == b"origin" for name, _ in scope.get("headers", [])):
            return await self.checked(scope, receive, send)
        return await self.app(scope, receive, send)
