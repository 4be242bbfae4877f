"""Reminders before the start, sent by the worker to the customer and the provider."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from tests.conftest import api_for
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
            "starts_at": soon.isoformat(),
        },
    )
    assert status == 201, body
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    done = DBTaskResult.objects.get(task_path="yuyue.orders.tasks.remind_before_start")
    assert done.status == "SUCCESSFUL"
    assert sorted(done.return_value) == sorted([customer.pk, provider.user_id])


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
    api_for(customer).post(f"/api/bookings/{body['id']}/cancel", {})
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    done = DBTaskResult.objects.get(task_path="yuyue.orders.tasks.remind_before_start")
    assert done.return_value == []
