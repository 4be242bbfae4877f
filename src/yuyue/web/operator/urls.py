from django.urls import path

from . import views

app_name = "operator"

urlpatterns = [
    path("", views.home, name="home"),
    path("figures/", views.figures_page, name="figures"),
    path("announcements/", views.announcements_page, name="announcements"),
    path("figures/export.xlsx", views.figures_export, name="figures-export"),
    path("merchant-applications/", views.merchant_applications, name="merchant-applications"),
    path(
        "merchant-applications/<int:application_id>/",
        views.merchant_application,
        name="merchant-application",
    ),
    path(
        "merchant-applications/<int:application_id>/licence.jpg",
        views.licence,
        name="licence",
    ),
    path("withdrawals/", views.withdrawals, name="withdrawals"),
    path("reviews/", views.review_queue, name="reviews"),
    path("cases/", views.case_queue, name="cases"),
    path("support/", views.support_queue, name="support"),
    path("top-up-plans/", views.top_up_plans, name="plans"),
    path("cases/<int:case_id>/", views.decide_case, name="decide-case"),
    path("reviews/<int:review_id>/", views.moderate, name="moderate"),
    path("withdrawals/<int:withdrawal_id>/", views.decide_withdrawal, name="decide-withdrawal"),
]
