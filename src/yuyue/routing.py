"""Every websocket route, collected from the parts that serve them (as urls.py does for HTTP)."""

from yuyue.calls.routing import websocket_urlpatterns as calls
from yuyue.dispatch.routing import websocket_urlpatterns as dispatch
from yuyue.engagement.routing import websocket_urlpatterns as engagement
from yuyue.notifications.routing import websocket_urlpatterns as notifications

websocket_urlpatterns = [*dispatch, *calls, *notifications, *engagement]
