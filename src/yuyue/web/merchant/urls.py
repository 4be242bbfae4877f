from django.urls import path

from . import checkin, views

app_name = "merchant"

urlpatterns = [
    path("", views.home, name="home"),
    path("checkin/", checkin.checkin, name="checkin"),
    path("bookings/", views.bookings, name="bookings"),
    path("bookings/export.xlsx", views.export, name="export"),
    path("bookings/<int:booking_id>/", views.booking, name="booking"),
]
