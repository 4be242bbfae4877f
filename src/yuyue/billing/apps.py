from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "yuyue.billing"
    label = "billing"
