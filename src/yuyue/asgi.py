import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "yuyue.settings")
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from yuyue.accounts.sockets import BrowserOriginValidator, TokenAuthMiddleware  # noqa: E402
from yuyue.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": BrowserOriginValidator(
            AuthMiddlewareStack(TokenAuthMiddleware(URLRouter(websocket_urlpatterns)))
        ),
    }
)

if os.environ.get("YUYUE_EMBEDDED_WORKER") == "1":  # make run without Redis: see embedded_worker
    from yuyue.core.embedded_worker import start  # noqa: E402

    start()
