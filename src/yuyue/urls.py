from django.contrib import admin
from django.urls import include, path
from django.views.i18n import set_language

from yuyue.api import api, probes
from yuyue.web import views as web

admin.site.site_header = "yuyue 预约 · operations"
admin.site.site_title = "yuyue admin"

urlpatterns = [
    path("", web.home, name="home"),
    path("bookings/<str:code>/qr.svg", web.booking_qr, name="booking-qr"),
    path("bookings/<str:code>/qr.png", web.booking_qr, {"kind": "png"}, name="booking-qr-png"),
    path("calls/<int:booking_id>/", web.call_page, name="call"),
    path("places/find/", web.find_place, name="find-place"),
    path("people/<int:user_id>/avatar/<int:version>.jpg", web.avatar, name="avatar"),
    path("work-photos/<int:photo_id>.jpg", web.work_photo, name="work-photo"),
    path("service-photos/<int:photo_id>.jpg", web.service_picture, name="service-photo"),
    path("stores/<slug:slug>/logo.jpg", web.store_picture, {"kind": "logo"}, name="store-logo"),
    path(
        "stores/<slug:slug>/photos/<int:picture_id>.jpg",
        web.store_picture,
        {"kind": "photo"},
        name="store-photo",
    ),
    path("i18n/setlang/", set_language, name="set_language"),
    path("pro/", include("yuyue.web.provider.urls")),
    path("shop/", include("yuyue.web.merchant.urls")),
    path("ops/", include("yuyue.web.operator.urls")),
    path("chat/", include("yuyue.web.chat.urls")),
    path("", include("yuyue.web.customer.urls")),
    path("health/live", probes.live, name="health-live"),
    path("health/ready", probes.readiness, name="health-ready"),
    path("metrics", probes.metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
]
