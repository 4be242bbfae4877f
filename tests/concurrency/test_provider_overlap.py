"""Many customers book overlapping times of one provider at once: only one gets the provider."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection

from tests.livesrv import Call, bearer, storm
from yuyue.scheduling.models import ProviderReservation, WorkingHours

from .conftest import SHANGHAI, assert_clean, outcome, people_with_keys

CLIENTS = 60
CONSTRAINT = "reservation_provider_no_overlap"
TABLE = "scheduling_providerreservation"


def _rush(server, onsite_service, provider, tomorrow_local):
    """CLIENTS bookings whose intervals all overlap one another (starts one step apart)."""
    for weekday in range(7):
        WorkingHours.objects.create(
            provider=provider, weekday=weekday, start=dt.time(8, 0), end=dt.time(20, 0)
        )
    first = dt.datetime.combine(tomorrow_local, dt.time(9, 0), tzinfo=SHANGHAI)
    step = dt.timedelta(minutes=onsite_service.step_minutes)
    block = dt.timedelta(minutes=onsite_service.duration_minutes + onsite_service.buffer_minutes)
    starts = []
    while len(starts) * step < block:  # every two of these starts are less than `block` apart
        starts.append(first + len(starts) * step)
    assert len(starts) >= 2 and starts[-1] - starts[0] < block
    people = people_with_keys(CLIENTS)
    calls = [
        Call(
            "POST",
            "/api/provider-bookings",
            {
                "service_id": onsite_service.pk,
                "provider_id": provider.pk,
                "address": "5 Ruijin Road",
                "starts_at": starts[i % len(starts)].isoformat(),
            },
            bearer(key),
        )
        for i, (_, key) in enumerate(people)
    ]
    return storm(server.url, calls)


@pytest.mark.django_db(transaction=True)
def test_concurrent_overlapping_bookings_of_a_provider(
    server, onsite_service, provider, tomorrow_local
):
    replies = _rush(server, onsite_service, provider, tomorrow_local)

    print(outcome(replies))
    assert_clean(replies, server)
    won = [r for r in replies if r.status == 201]
    busy = [r for r in replies if r.status == 409 and r.code == "provider_busy"]
    assert (len(won), len(busy)) == (1, CLIENTS - 1), outcome(replies)
    assert ProviderReservation.objects.filter(provider=provider, active=True).count() == 1


@pytest.mark.django_db(transaction=True)
def test_control_unguarded_provider_is_double_booked(
    unguarded_server, onsite_service, provider, tomorrow_local, vendor
):
    """Control: without the guards (and, on PostgreSQL, without the exclusion constraint, which
    would otherwise still refuse the overlap) several customers get the same provider's time.

    Runs on SQLite as well as PostgreSQL: the unguarded path reads before its write
    transaction begins, so SQLite's serialised writers do not hide the race."""
    dropped = False
    try:
        if vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"ALTER TABLE {TABLE} DROP CONSTRAINT {CONSTRAINT}")
            dropped = True
        replies = _rush(unguarded_server, onsite_service, provider, tomorrow_local)

        print(outcome(replies))
        assert_clean(replies, unguarded_server)
        won = sum(r.status == 201 for r in replies)
        active = ProviderReservation.objects.filter(provider=provider, active=True).count()
        assert won == active
        assert active > 1, f"no double booking without the guards: {outcome(replies)}"
    finally:
        if dropped:
            # The overlapping rows this control made would stop the constraint coming back.
            ProviderReservation.objects.filter(provider=provider).update(active=False)
            with connection.cursor() as cursor:
                cursor.execute(
                    f"ALTER TABLE {TABLE} ADD CONSTRAINT {CONSTRAINT} EXCLUDE USING gist "
                    "(provider_id WITH =, tstzrange(starts_at, blocked_until, '[)') WITH &&) "
                    "WHERE (active)"
                )
