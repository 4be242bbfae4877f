"""Property: whatever sequence of bookings, cancellations and check-ins happens, a slot's counts
agree with its booking rows and never exceed its capacity."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import make_user
from yuyue.accounts.models import MerchantStaff, StaffRole
from yuyue.catalog.models import CancelPolicy, Hall, Merchant, MerchantStatus, Service
from yuyue.core.errors import DomainError
from yuyue.orders import services
from yuyue.orders.models import Booking
from yuyue.orders.queries import slot_counts_consistent
from yuyue.scheduling.models import TimeSlot

actions = st.lists(
    st.one_of(
        st.tuples(st.just("book"), st.integers(0, 4), st.integers(1, 4)),
        st.tuples(st.just("cancel"), st.integers(0, 20), st.just(0)),
        st.tuples(st.just("staff_cancel"), st.integers(0, 20), st.just(0)),
        st.tuples(st.just("check_in"), st.integers(0, 20), st.just(0)),
    ),
    max_size=25,
)


@pytest.mark.django_db
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=actions, capacity=st.integers(1, 8), limit=st.integers(1, 3))
def test_counts_always_match_rows(steps, capacity, limit):
    merchant = Merchant.objects.create(
        name="P", slug=f"p{Merchant.objects.count()}", status=MerchantStatus.ACTIVE
    )
    hall = Hall.objects.create(merchant=merchant, name="H")
    service = Service.objects.create(
        merchant=merchant,
        name="S",
        kind="hall_slot",
        per_user_limit=limit,
        cancel_policy=CancelPolicy.ANY_TIME,
    )
    start = timezone.now() + dt.timedelta(minutes=5)
    slot = TimeSlot.objects.create(
        service=service,
        hall=hall,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        capacity=capacity,
    )
    people = [make_user(f"c{i}") for i in range(5)]
    clerk = make_user("clerk")
    MerchantStaff.objects.create(user=clerk, merchant=merchant, role=StaffRole.CLERK)
    made: list[Booking] = []
    for action, who, places in steps:
        try:
            if action == "book":
                made.append(
                    services.book_slot(
                        actor=people[who], slot_id=slot.pk, places=places, participants=None
                    )
                )
            elif made:
                booking = made[who % len(made)]
                if action == "cancel":
                    services.cancel_booking(actor=booking.customer, booking_id=booking.pk)
                elif action == "staff_cancel":
                    services.cancel_booking_by_staff(actor=clerk, booking=booking, reason="r")
                else:
                    services.check_in(actor=clerk, merchant_id=merchant.pk, code=booking.code)
        except DomainError:
            pass
        assert slot_counts_consistent(slot)
        assert slot.booked <= capacity
        for person in people:
            live = Booking.objects.filter(
                slot=slot, customer=person, status__in=["booked", "checked_in"]
            ).count()
            assert live <= limit
