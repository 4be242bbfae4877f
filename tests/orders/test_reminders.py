"""Reminders before the start, sent by the worker to the customer and the provider."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.conftest import api_for
from yuyue.notifications.models import Notice
from yuyue.orders.models import Booking
from yuyue.scheduling.models import WorkingHours


@pytest.mark.django_db(transaction=True)
def test_reminder_reaches_customer_and_provider(settings, customer, provider, onsite_service):
    onsite_service.base_price_fen = 0
    onsite_service.step_minutes = 1
    onsite_service.duration_minutes = 10
    onsite_service.save()
    shanghai = dt.timezone(dt.timedelta(hours=8))
    soon = (timezone.now() + dt.timedelta(minutes=30)).replace(second=0, microsecond=0)
    if (soon + dt.timedelta(minutes=10)).astimezone(shanghai).date() != soon.astimezone(
        shanghai
    ).date():
        soon += dt.timedelta(minutes=40)  # keep the job within one local day
    for d in range(7):
        WorkingHours.objects.create(
            provider=provider, weekday=d, start=dt.time(0), end=dt.time(23, 59)
        )
    settings.YUYUE_REMINDER_MINUTES = 24 * 60  # the reminder is due at once
    status, body = api_for(customer).post(
        "/api/provider-bookings",
        {
            "service_id": onsite_service.pk,
            "provider_id": provider.pk,
            "address": "5 Ruijin Road",
            "starts_at": soon.isoformat(),
        },
    )
    assert status == 201, body
    booking = Booking.objects.get(pk=body["id"])
    assert booking.remind_at is not None and booking.remind_at <= timezone.now()
    _sweep()
    done = DBTaskResult.objects.get(task_path="yuyue.orders.tasks.send_reminders_job")
    assert done.status == "SUCCESSFUL" and done.return_value == {"sent": 1, "dropped": 0}
    told = Notice.objects.filter(kind="booking.reminder", payload__booking=booking.pk)
    assert sorted(n.user_id for n in told) == sorted([customer.pk, provider.user_id])
    booking.refresh_from_db()
    assert booking.remind_at is None  # one offset: nothing left to send
    _sweep()  # a second sweep sends nothing again
    assert Notice.objects.filter(kind="booking.reminder").count() == 2


@pytest.mark.django_db(transaction=True)
def test_no_reminder_for_a_cancelled_order(settings, customer, hall_service, hall):
    from yuyue.scheduling.models import TimeSlot

    start = timezone.now() + dt.timedelta(minutes=20)
    slot = TimeSlot.objects.create(
        service=hall_service,
        hall=hall,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        capacity=3,
    )
    settings.YUYUE_REMINDER_MINUTES = 20
    hall_service.cancel_policy = "any_time"
    hall_service.save()
    _, body = api_for(customer).post("/api/bookings", {"slot_id": slot.pk})
    booking = Booking.objects.get(pk=body["id"])
    assert booking.remind_at <= timezone.now()  # due at once: 20 minutes before the start
    api_for(customer).post(f"/api/bookings/{body['id']}/cancel", {})
    _sweep()
    booking.refresh_from_db()
    assert booking.remind_at is None
    assert not Notice.objects.filter(kind="booking.reminder").exists()


def _sweep():
    """One run of the reminder sweep, through the job worker."""
    from yuyue.orders.tasks import send_reminders_job

    send_reminders_job.enqueue(reschedule=False)
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)


@pytest.mark.django_db
def test_reminders_follow_the_offsets_and_never_repeat(settings, customer, hall_service, hall):
    """A sweep sends what is due once, moves to the next offset, and sends nothing after the end
    or for a start already past when booked."""
    from yuyue.orders.services import first_reminder_at, send_due_reminders
    from yuyue.scheduling.models import TimeSlot

    settings.YUYUE_REMINDER_MINUTES = 60
    start = (timezone.now() + dt.timedelta(hours=3)).replace(microsecond=0)
    slot = TimeSlot.objects.create(
        service=hall_service, hall=hall, starts_at=start, ends_at=start + dt.timedelta(hours=1)
    )
    status, body = api_for(customer).post("/api/bookings", {"slot_id": slot.pk})
    assert status == 201, body
    booking = Booking.objects.get(pk=body["id"])
    assert booking.remind_at == start - dt.timedelta(minutes=60)
    assert send_due_reminders(now=start - dt.timedelta(minutes=61)) == {"sent": 0, "dropped": 0}
    assert send_due_reminders(now=start - dt.timedelta(minutes=59)) == {"sent": 1, "dropped": 0}
    assert send_due_reminders(now=start - dt.timedelta(minutes=30)) == {"sent": 0, "dropped": 0}
    (notice,) = Notice.objects.filter(user=customer, kind="booking.reminder")
    assert notice.payload["minutes_before"] == 60 and notice.payload["booking"] == booking.pk
    # booked after the last offset has passed: reminded at once; after the start: never
    late = Booking(starts_at=start, channel="hall_slot", service=hall_service)
    now = start - dt.timedelta(minutes=10)
    assert first_reminder_at(late, now=now) == now
    assert first_reminder_at(late, now=start) is None
    # a reminder the sweep reaches only after the booking ended is dropped, not sent
    Booking.objects.filter(pk=booking.pk).update(remind_at=start - dt.timedelta(minutes=60))
    assert send_due_reminders(now=start + dt.timedelta(hours=2)) == {"sent": 0, "dropped": 1}
    assert Booking.objects.get(pk=booking.pk).remind_at is None


@pytest.mark.django_db
def test_no_reminders_asked_for_none_set(customer, hall_service, hall, monkeypatch):
    """A timed call's rules may ask for no reminders: the booking gets none, and a booking
    whose offsets were emptied after it was made is dropped by the sweep, not an error."""
    from yuyue.orders import reminders
    from yuyue.orders.reminders import first_reminder_at, send_due_reminders

    start = timezone.now() + dt.timedelta(hours=2)
    booking = Booking(starts_at=start, channel="hall_slot", service=hall_service)
    monkeypatch.setattr(reminders, "_reminder_offsets", lambda b: [])
    assert first_reminder_at(booking) is None
    from yuyue.scheduling.models import TimeSlot

    slot = TimeSlot.objects.create(
        service=hall_service, hall=hall, starts_at=start, ends_at=start + dt.timedelta(hours=1)
    )
    made = Booking.objects.create(
        customer=customer,
        merchant_id=hall_service.merchant_id,
        service=hall_service,
        slot=slot,
        starts_at=start,
        ends_at=slot.ends_at,
        code="NOREMIND1",
        remind_at=timezone.now(),
    )
    assert send_due_reminders() == {"sent": 0, "dropped": 1}
    made.refresh_from_db()
    assert made.remind_at is None


@pytest.mark.django_db
def test_reminder_jobs_of_before_the_sweep_become_remind_at(customer, hall_service, hall):
    """The upgrade (migration orders 0008): a reminder still waiting as a job row becomes its
    booking's remind_at, and the job row, whose task no longer exists, is removed."""
    import importlib

    from django.apps import apps

    from yuyue.scheduling.models import TimeSlot

    step = importlib.import_module("yuyue.orders.migrations.0008_reminder_jobs_to_remind_at")
    start = (timezone.now() + dt.timedelta(hours=3)).replace(microsecond=0)
    slot = TimeSlot.objects.create(
        service=hall_service, hall=hall, starts_at=start, ends_at=start + dt.timedelta(hours=1)
    )
    booking = Booking.objects.create(
        customer=customer,
        merchant_id=hall_service.merchant_id,
        service=hall_service,
        slot=slot,
        starts_at=start,
        ends_at=slot.ends_at,
        code="OLDJOBS01",
    )
    for minutes in (60, 15):
        DBTaskResult.objects.create(
            task_path=step.OLD_TASK,
            args_kwargs={"args": [booking.pk, minutes], "kwargs": {}},
            run_after=start - dt.timedelta(minutes=minutes),
            queue_name="default",
            backend_name="default",
            priority=0,
        )
    step.forwards(apps, None)
    booking.refresh_from_db()
    assert booking.remind_at == start - dt.timedelta(minutes=60)
    assert not DBTaskResult.objects.filter(task_path=step.OLD_TASK).exists()
