from django.urls import path

from . import cases, favourites, needs, packages, profile, providers, reviews, views

app_name = "customer"

urlpatterns = [
    path("sign-in/", views.sign_in, name="sign-in"),
    path("sign-out/", views.sign_out, name="sign-out"),
    path("services/<int:service_id>/", views.service_page, name="service"),
    path("merchants/<slug:slug>/", views.merchant_page, name="merchant"),
    path("services/<int:service_id>/providers/", providers.providers_page, name="providers"),
    path("providers/<int:provider_id>/", providers.provider_page, name="provider"),
    path("providers/<int:provider_id>/package/", packages.new_package, name="new-package"),
    path("my/packages/<int:series_id>/", packages.package_page, name="package"),
    path("my/needs/", needs.needs_page, name="needs"),
    path("my/needs/new/", needs.new_need, name="new-need"),
    path("my/needs/<int:need_id>/", needs.need_page, name="need"),
    path("my/needs/<int:need_id>/pick/", needs.pick, name="pick"),
    path("my/needs/<int:need_id>/cancel/", needs.cancel, name="cancel-need"),
    path("my/packages/<int:series_id>/pay/", packages.pay_package, name="pay-package"),
    path("my/packages/<int:series_id>/cancel/", packages.cancel_package, name="cancel-package"),
    path("my/bookings/", views.bookings, name="bookings"),
    path("my/waitlist/<int:entry_id>/leave/", views.leave_waitlist, name="leave-waitlist"),
    path("my/wallet/", views.wallet_page, name="wallet"),
    path("my/profile/", profile.profile_page, name="profile"),
    path("my/favourites/", favourites.favourites_page, name="favourites"),
    path("my/favourites/<str:kind>/<int:target_id>/", favourites.toggle, name="favourite"),
    path("my/notices/", views.notices_page, name="notices"),
    path("my/notices/<int:notice_id>/read/", views.notice_read, name="notice-read"),
    path("my/notices/badge/", views.unread_badge, name="badge"),
    path("my/bookings/<int:booking_id>/", views.booking_page, name="booking"),
    path("my/bookings/<int:booking_id>/review/", reviews.write, name="review"),
    path("my/bookings/<int:booking_id>/case/", cases.open_case, name="open-case"),
    path("my/cases/<int:case_id>/", cases.case_page, name="case"),
    path("case-photos/<int:photo_id>.jpg", cases.case_photo, name="case-photo"),
    path("review-photos/<int:photo_id>.jpg", reviews.photo, name="review-photo"),
    path("my/bookings/<int:booking_id>/pay/", views.pay, name="pay"),
    path("my/payments/<str:out_trade_no>/sandbox/", views.sandbox_pay, name="sandbox-pay"),
    path("my/bookings/<int:booking_id>/join/", views.join_call, name="join-call"),
    path("my/bookings/<int:booking_id>/cancel/", views.cancel, name="cancel"),
    path("my/bookings/<int:booking_id>/reschedule/", views.reschedule, name="reschedule"),
]
