from django.apps import AppConfig


class SchedulingConfig(AppConfig):
    name = "yuyue.scheduling"
    label = "scheduling"
