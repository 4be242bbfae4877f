from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "yuyue.accounts"
    label = "accounts"
    verbose_name = "People"
