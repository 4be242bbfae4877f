from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "yuyue.billing"
    label = "billing"

    def ready(self):
        from yuyue.orders.events import order_placed, step_taken

        from . import receivers

        step_taken.connect(receivers.on_step, dispatch_uid="billing.on_step")
        order_placed.connect(receivers.on_placed, dispatch_uid="billing.on_placed")
