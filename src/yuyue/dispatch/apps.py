from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "yuyue.dispatch"
    label = "dispatch"

    def ready(self):
        from yuyue.orders.events import step_taken

        from . import receivers

        step_taken.connect(receivers.push_step, dispatch_uid="dispatch.push_step")
        from .record import note_late_arrival

        step_taken.connect(note_late_arrival, dispatch_uid="dispatch.note_late_arrival")
