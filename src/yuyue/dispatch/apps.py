from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "yuyue.dispatch"
    label = "dispatch"
