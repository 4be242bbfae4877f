"""Several staff scan one check-in code at the same moment: it is checked in exactly once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests.conftest import make_user
from tests.livesrv import Call, bearer, storm
from yuyue.accounts.models import MerchantStaff, StaffRole
from yuyue.accounts.tokens import issue_token
from yuyue.core.codes import new_checkin_code
from yuyue.orders.models import Booking, BookingStatus
from yuyue.scheduling.models import TimeSlot

from .conftest import assert_clean, outcome, people_with_keys

CLIENTS = 20
STAFF = 4


def _rush(server, merchant, hall_service, hall):
    # A slot that starts now is today in any zone; the booking is made directly, as the
    # booking rules (deadlines) are not what this test is about.
    starts = timezone.now().replace(second=0, microsecond=0)
    slot = TimeSlot.objects.create(
        service=hall_service,
        hall=hall,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=1),
        capacity=10,
        booked=1,
    )
    [(customer, _)] = people_with_keys(1)
    booking = Booking.objects.create(
        customer=customer,
        merchant=merchant,
        service=hall_service,
        slot=slot,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        places=1,
        code=new_checkin_code(),
    )
    keys = []
    for i, role in enumerate([StaffRole.OWNER, StaffRole.MANAGER] + [StaffRole.CLERK] * STAFF):
        user = make_user(f"Staff {i}")
        MerchantStaff.objects.create(user=user, merchant=merchant, role=role)
        keys.append(issue_token(user=user, via="password")[0])
    calls = [
        Call(
            "POST",
            f"/api/merchants/{merchant.pk}/checkins",
            {"code": booking.code},
            bearer(keys[i % len(keys)]),
        )
        for i in range(CLIENTS)
    ]
    return booking, storm(server.url, calls)


@pytest.mark.django_db(transaction=True)
def test_one_code_is_checked_in_once(server, merchant, hall_service, hall):
    booking, replies = _rush(server, merchant, hall_service, hall)

    print(outcome(replies))
    assert_clean(replies, server)
    ok = [r for r in replies if r.status == 200]
    again = [r for r in replies if r.status == 409 and r.code == "already_checked_in"]
    assert (len(ok), len(again)) == (1, CLIENTS - 1), outcome(replies)
    assert ok[0].body["status"] == "checked_in"
    booking.refresh_from_db()
    assert booking.status == BookingStatus.CHECKED_IN
    assert booking.checked_in_at is not None


@pytest.mark.django_db(transaction=True)
def test_control_unguarded_code_is_checked_in_twice(unguarded_server, merchant, hall_service, hall):
    """Control: without the guards more than one scan is told "checked in".

    Runs on SQLite as well as PostgreSQL: the unguarded path reads before its write
    transaction begins, so SQLite's serialised writers do not hide the race."""
    booking, replies = _rush(unguarded_server, merchant, hall_service, hall)

    print(outcome(replies))
    assert_clean(replies, unguarded_server)
    ok = sum(r.status == 200 for r in replies)
    assert ok > 1, f"only one check-in without the guards: {outcome(replies)}"
