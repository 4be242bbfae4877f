from django.urls import path

from . import checkin, staff, views

app_name = "merchant"

urlpatterns = [
    path("", views.home, name="home"),
    path("checkin/", checkin.checkin, name="checkin"),
    path("bookings/", views.bookings, name="bookings"),
    path("bookings/export.xlsx", views.export, name="export"),
    path("bookings/<int:booking_id>/", views.booking, name="booking"),
    path("staff/", staff.staff, name="staff"),
    path("staff/invite/", staff.invite, name="staff-invite"),
    path("staff/<int:user_id>/halls/", staff.halls, name="staff-halls"),
    path("staff/<int:user_id>/remove/", staff.remove, name="staff-remove"),
]
