from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "yuyue.engagement"
    label = "engagement"
    verbose_name = "engagement: reviews"
