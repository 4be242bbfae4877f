"""The order state machine: every step from every state, and who may take it."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db import transaction
from django.utils import timezone

from tests.conftest import make_user
from yuyue.accounts.models import MerchantStaff, StaffRole
from yuyue.core.errors import DomainError
from yuyue.orders.models import Booking, BookingEvent, BookingStatus, Channel
from yuyue.orders.states import STEPS, apply_step

ROLES = ("customer", "provider", "staff", "operator", "system")


@pytest.fixture
def people(customer, provider, merchant):
    staff = make_user("Dispatcher")
    MerchantStaff.objects.create(user=staff, merchant=merchant, role=StaffRole.MANAGER)
    return {
        "customer": customer,
        "provider": provider.user,
        "staff": staff,
        "operator": make_user("Op", is_operator=True),
        "system": None,
    }


def _order(status, customer, provider, service) -> Booking:
    start = timezone.now() + dt.timedelta(days=1)
    return Booking.objects.create(
        customer=customer,
        merchant=service.merchant,
        service=service,
        provider=provider,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        status=status,
        channel=Channel.CHOSEN,
        code=f"C{Booking.objects.count():09d}",
    )


@pytest.mark.parametrize("step,status", list(itertools.product(STEPS, BookingStatus.values)))
def test_every_step_from_every_state(step, status, people, customer, provider, onsite_service):
    rule = STEPS[step]
    role = sorted(rule.roles)[0]
    booking = _order(status, customer, provider, onsite_service)
    try:
        with transaction.atomic():
            apply_step(booking, step, actor=people[role], role=role)
        legal = True
    except DomainError as exc:
        assert exc.code == "illegal_transition"
        legal = False
    booking.refresh_from_db()
    assert legal == (status in rule.sources), (step, status)
    if legal:
        assert booking.status == rule.target
        event = BookingEvent.objects.get(booking=booking)
        assert (event.from_status, event.to_status, event.role) == (status, rule.target, role)
    else:
        assert booking.status == status
        assert not BookingEvent.objects.filter(booking=booking).exists()


@pytest.mark.parametrize("step,role", list(itertools.product(STEPS, ROLES)))
def test_who_may_take_each_step(step, role, people, customer, provider, onsite_service):
    rule = STEPS[step]
    source = sorted(rule.sources)[0]
    booking = _order(source, customer, provider, onsite_service)
    try:
        with transaction.atomic():
            apply_step(booking, step, actor=people[role], role=role)
        allowed = True
    except DomainError as exc:
        assert exc.code == "forbidden"
        allowed = False
    assert allowed == (role in rule.roles), (step, role)


def test_a_stranger_holds_no_role(customer, provider, onsite_service):
    booking = _order(BookingStatus.ACCEPTED, customer, provider, onsite_service)
    with pytest.raises(DomainError) as exc, transaction.atomic():
        apply_step(booking, "depart", actor=make_user("stranger"))
    assert exc.value.code == "forbidden"
