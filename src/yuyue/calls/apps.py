from django.apps import AppConfig


class CallsConfig(AppConfig):
    name = "yuyue.calls"
    label = "calls"
    verbose_name = "timed calls"

    def ready(self):
        from yuyue.orders.events import order_placed, step_taken

        from . import receivers

        order_placed.connect(receivers.on_placed, dispatch_uid="calls.on_placed")
        step_taken.connect(receivers.on_step, dispatch_uid="calls.on_step")
