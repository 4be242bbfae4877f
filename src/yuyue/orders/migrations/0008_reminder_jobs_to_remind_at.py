"""Reminders waiting as job rows (before ADR 0008) become their bookings' `remind_at`."""

from django.db import migrations

OLD_TASK = "yuyue.orders.tasks.remind_before_start"


def forwards(apps, schema_editor):
    Booking = apps.get_model("orders", "Booking")
    Job = apps.get_model("django_tasks_database", "DBTaskResult")
    waiting = Job.objects.filter(task_path=OLD_TASK, status="READY")
    due: dict[int, object] = {}
    for job in waiting.iterator():
        args = (job.args_kwargs or {}).get("args") or []
        if args and isinstance(args[0], int):
            due[args[0]] = min(due.get(args[0], job.run_after), job.run_after)
    for booking_id, at in due.items():  # the earliest: the sweep moves on from there
        Booking.objects.filter(pk=booking_id, remind_at__isnull=True).update(remind_at=at)
    waiting.delete()  # the task is gone: the worker could not run them


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0007_booking_remind_at"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
