from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "yuyue.calls"
    label = "calls"
    verbose_name = "timed calls"
