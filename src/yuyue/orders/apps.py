from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "yuyue.orders"
    label = "orders"

    def ready(self):
        from .events import step_taken
        from .models import Booking
        from .waitlist import places_freed

        # the waiting list is of orders itself: it listens as the parts above do
        step_taken.connect(places_freed, sender=Booking, dispatch_uid="orders.waitlist")

        from yuyue.scheduling.events import slots_closed
        from yuyue.scheduling.models import TimeSlot

        from .closures import tell_holders

        slots_closed.connect(tell_holders, sender=TimeSlot, dispatch_uid="orders.closures")

        from yuyue.notifications.delivery import still_true

        from .reminders import still_coming

        still_true("booking.reminder")(still_coming)
