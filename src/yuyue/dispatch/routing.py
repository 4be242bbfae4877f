from django.urls import path

from .consumers import OffersConsumer, TrackConsumer

websocket_urlpatterns = [
    path("ws/bookings/<int:booking_id>/track/", TrackConsumer.as_asgi()),
    path("ws/provider/offers/", OffersConsumer.as_asgi()),
]
