from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    """Telling people things: in-app notices, text messages, and the texts of reminders. Below
    orders, so every part above accounts may call `notify`."""

    name = "yuyue.notifications"
    label = "notifications"
