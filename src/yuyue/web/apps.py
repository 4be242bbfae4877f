from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "yuyue.web"
    label = "web"
