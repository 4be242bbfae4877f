from django.urls import path

from .consumers import TrackConsumer

websocket_urlpatterns = [
    path("ws/bookings/<int:booking_id>/track/", TrackConsumer.as_asgi()),
]
