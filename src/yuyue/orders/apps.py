from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "yuyue.orders"
    label = "orders"
