from django.urls import path

from . import views

app_name = "chat"

urlpatterns = [
    path("", views.conversations, name="list"),
    path("<int:conversation_id>/", views.conversation, name="conversation"),
    path("orders/<int:booking_id>/", views.open_order, name="open-order"),
    path("support/", views.open_support, name="open-support"),
    path("badge/", views.badge, name="badge"),
    path("pictures/<int:message_id>/", views.picture, name="picture"),
]
