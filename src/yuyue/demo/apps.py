from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The top floor: the demo data (`load_demo`) and the one-command platform (`run_platform`).
    It may import every other part; nothing imports it."""

    name = "yuyue.demo"
    label = "demo"
