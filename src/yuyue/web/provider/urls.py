from django.urls import path

from . import calls, feeds, hours, money, onboarding, training, views

app_name = "provider"

urlpatterns = [
    path("", views.home, name="home"),
    path("duty/", views.duty, name="duty"),
    path("record/", views.record, name="record"),
    path("offers/<int:offer_id>/", views.offer_card, name="offer"),
    path("offers/<int:offer_id>/accept/", views.accept, name="accept"),
    path("offers/<int:offer_id>/reject/", views.reject, name="reject"),
    path("orders/", views.orders, name="orders"),
    path("orders/<int:booking_id>/", views.order, name="order"),
    path("orders/<int:booking_id>/location/", views.location, name="location"),
    path("orders/<int:booking_id>/join/", views.join_call, name="join-call"),
    path("orders/<int:booking_id>/<str:name>/", views.step, name="step"),
    path("money/", money.money, name="money"),
    path("calls/", calls.calls, name="calls"),
    path("calls/<int:booking_id>/", calls.call_record, name="call-record"),
    path("apply/", onboarding.apply, name="apply"),
    path("review/", onboarding.review_list, name="review-list"),
    path("review/<int:application_id>/", onboarding.review, name="review"),
    path("review/<int:application_id>/decide/", onboarding.decide, name="decide"),
    path("documents/<int:document_id>/", onboarding.document, name="document"),
    path("grab/", feeds.grab, name="grab"),
    path("hours/", hours.hours, name="hours"),
    path("needs/", feeds.needs, name="needs"),
    path("training/", training.courses, name="training"),
    path("training/<int:course_id>/", training.course, name="course"),
]
