from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "yuyue.catalog"
    label = "catalog"
