from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "yuyue.billing"
    label = "billing"

    def ready(self):
        from yuyue.orders.events import order_placed, step_taken

        from . import receivers, restore_checks  # noqa: F401 (registers the ledger's check)

        step_taken.connect(receivers.on_step, dispatch_uid="billing.on_step")
        order_placed.connect(receivers.on_placed, dispatch_uid="billing.on_placed")
