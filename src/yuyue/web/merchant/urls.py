from django.urls import path

from . import calendar, checkin, dispatching, figures, promotions, services, staff, views

app_name = "merchant"

urlpatterns = [
    path("", views.home, name="home"),
    path("checkin/", checkin.checkin, name="checkin"),
    path("bookings/", views.bookings, name="bookings"),
    path("bookings/export.xlsx", views.export, name="export"),
    path("bookings/<int:booking_id>/", views.booking, name="booking"),
    path("calendar/", calendar.calendar, name="calendar"),
    path("calendar/close-day/", calendar.close_day, name="close-day"),
    path("calendar/fill/", calendar.fill, name="fill"),
    path("calendar/templates/", calendar.new_template, name="new-template"),
    path("slots/<int:slot_id>/", calendar.slot, name="slot"),
    path("dispatch/", dispatching.board, name="dispatch"),
    path("dispatch/<int:booking_id>/", dispatching.order, name="dispatch-order"),
    path("figures/", figures.dashboard, name="figures"),
    path("figures/export.xlsx", figures.export, name="figures-export"),
    path("coupons/", promotions.coupon_list, name="coupons"),
    path("coupons/new/", promotions.coupon_new, name="coupon-new"),
    path("coupons/<int:coupon_id>/give/", promotions.coupon_give, name="coupon-give"),
    path("services/", services.service_list, name="services"),
    path("services/<int:service_id>/", services.service, name="service"),
    path("services/<int:service_id>/form/", services.form_editor, name="service-form"),
    path("services/<int:service_id>/rules/", services.rules, name="service-rules"),
    path("services/<int:service_id>/rules/preview/", services.rules_preview, name="rules-preview"),
    path("staff/", staff.staff, name="staff"),
    path("staff/invite/", staff.invite, name="staff-invite"),
    path("staff/<int:user_id>/halls/", staff.halls, name="staff-halls"),
    path("staff/<int:user_id>/remove/", staff.remove, name="staff-remove"),
]
