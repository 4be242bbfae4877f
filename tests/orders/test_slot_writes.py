"""Hall-slot bookings written together (group commit): every guard holds per booking in a batch.

The batch tests build the bookings as `book_slot` does and write them in one transaction; the
thread test sends real concurrent bookings through `book_slot` in one process and checks that
batches formed and that the outcome is exactly what one-at-a-time writing would allow.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import IntegrityError, connection
from django.utils import timezone

from tests.conftest import make_user
from yuyue.accounts.models import User
from yuyue.core.errors import DomainError
from yuyue.core.models import AuditLog
from yuyue.orders import batching, slot_writes
from yuyue.orders.models import Booking, Channel, Participant, SlotUsage
from yuyue.orders.queries import slot_counts_consistent
from yuyue.orders.services import book_slot
from yuyue.scheduling.models import SlotStatus, TimeSlot


def _slot(service, hall, *, capacity, hours=24, status=SlotStatus.OPEN) -> TimeSlot:
    start = timezone.now().replace(microsecond=0) + dt.timedelta(hours=hours)
    return TimeSlot.objects.create(
        service=service,
        hall=hall,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        capacity=capacity,
        status=status,
    )


def _pending(customer, slot, places=1) -> slot_writes.PendingBooking:
    service = slot.service
    booking = Booking(
        customer=customer,
        merchant_id=service.merchant_id,
        service=service,
        slot=slot,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        places=places,
        quantity=places,
        channel=Channel.HALL_SLOT,
    )
    return slot_writes.PendingBooking(
        booking=booking,
        people=[Participant(position=i, answers={}) for i in range(places)],
        limit=service.per_user_limit,
    )


def _usage(slot, customer) -> int:
    row = SlotUsage.objects.filter(slot=slot, customer=customer).first()
    return row.count if row else 0


@pytest.mark.django_db(transaction=True)
def test_one_batch_applies_every_guard_per_booking(hall_service, hall):
    hall_service.per_user_limit = 1
    hall_service.save()
    two_left = _slot(hall_service, hall, capacity=2)
    one_left = _slot(hall_service, hall, capacity=1, hours=26)
    closed = _slot(hall_service, hall, capacity=5, hours=28, status=SlotStatus.CLOSED)
    people = [make_user(f"c{i}") for i in range(7)]
    batch = [
        _pending(people[0], two_left),
        _pending(people[1], two_left),
        _pending(people[2], two_left),  # third for two places: full
        _pending(people[3], one_left, places=2),  # two for one place: full...
        _pending(people[4], one_left),  # ...but the next one fits
        _pending(people[5], closed),
        _pending(people[0], two_left),  # the same customer again: over the per-user limit
    ]

    batching._run(batch)

    outcome = [p.error.code if p.error else "booked" for p in batch]
    assert outcome == [
        "booked",
        "booked",
        "slot_full",
        "slot_full",
        "booked",
        "slot_closed",
        "per_user_limit",
    ]
    for slot, booked in ((two_left, 2), (one_left, 1), (closed, 0)):
        slot.refresh_from_db()
        assert slot.booked == booked == Booking.objects.filter(slot=slot).count()
        assert slot_counts_consistent(slot)
    # what a refused booking raised is given back: usage counts live bookings only
    assert [_usage(two_left, c) for c in people[:3]] == [1, 1, 0]
    assert (_usage(one_left, people[3]), _usage(one_left, people[4])) == (0, 1)
    assert _usage(closed, people[5]) == 0
    assert not SlotUsage.objects.filter(count=0).exists()  # refused bookings leave no row
    assert [p.written for p in batch] == [p.error is None for p in batch]
    won = [p.booking for p in batch if p.error is None]
    assert all(b.pk and len(b.code) == 10 for b in won)
    assert len({b.code for b in won}) == 3
    assert Participant.objects.filter(booking__in=won).count() == 3
    assert AuditLog.objects.filter(action="booking.create").count() == 3


@pytest.mark.django_db(transaction=True)
def test_a_batch_that_fails_as_a_whole_is_written_one_by_one(hall_service, hall):
    """A booking no rule foresaw failing (here: a customer who no longer exists, found only at
    COMMIT by the foreign key) fails alone; the others in its batch are booked."""
    slot = _slot(hall_service, hall, capacity=5)
    good = [make_user(f"g{i}") for i in range(3)]
    ghost = _pending(User(pk=10**9, name="gone"), slot)  # never saved
    batch = [_pending(good[0], slot), ghost, _pending(good[1], slot), _pending(good[2], slot)]

    batching._run(batch)

    assert isinstance(ghost.error, IntegrityError)
    assert [p.error for p in batch if p is not ghost] == [None, None, None]
    slot.refresh_from_db()
    assert slot.booked == 3 == Booking.objects.filter(slot=slot).count()
    assert not SlotUsage.objects.filter(customer_id=10**9).exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_bookings_in_one_process_are_batched_and_exact(hall_service, hall):
    """40 threads book at once through book_slot: 25 customers race for 10 places, and five
    customers try three times each for a slot with a limit of 2 per person."""
    hall_service.per_user_limit = 2
    hall_service.max_places_per_booking = 5
    hall_service.save()
    rush = _slot(hall_service, hall, capacity=10)
    roomy = _slot(hall_service, hall, capacity=100, hours=30)
    racers = [make_user(f"r{i}") for i in range(25)]
    repeaters = [make_user(f"x{i}") for i in range(5)]
    jobs = [(u, rush) for u in racers] + [(u, roomy) for u in repeaters for _ in range(3)]
    before = batching.stats.snapshot()
    barrier = threading.Barrier(len(jobs))
    results: list[str] = [""] * len(jobs)

    def run(i, user, slot):
        try:
            barrier.wait()
            book_slot(actor=user, slot_id=slot.pk, places=1, participants=None)
            results[i] = "booked"
        except DomainError as exc:
            results[i] = exc.code
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, u, s)) for i, (u, s) in enumerate(jobs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)

    rush_results, roomy_results = results[:25], results[25:]
    assert rush_results.count("booked") == 10
    assert rush_results.count("slot_full") == 15
    assert roomy_results.count("booked") == 10  # 2 for each of the five
    assert roomy_results.count("per_user_limit") == 5
    for slot, booked in ((rush, 10), (roomy, 10)):
        slot.refresh_from_db()
        assert slot.booked == booked == Booking.objects.filter(slot=slot).count()
        assert slot_counts_consistent(slot)
    assert all(_usage(roomy, u) == 2 for u in repeaters)
    assert sum(_usage(rush, u) for u in racers) == 10
    after = batching.stats.snapshot()
    assert after["bookings"] - before["bookings"] >= len(jobs)
    assert after["batches"] - before["batches"] < len(jobs), "no batch of more than one formed"


@pytest.mark.django_db(transaction=True)
def test_a_batch_that_cannot_start_reports_an_error_not_a_booking(hall_service, hall, monkeypatch):
    slot = _slot(hall_service, hall, capacity=5)
    p = _pending(make_user("c"), slot)

    def broken(batch):
        raise OSError("lock file unavailable")

    monkeypatch.setattr(batching, "_run", broken)
    with pytest.raises(OSError):
        batching.write_bookings(p)
    assert not p.written
    assert not Booking.objects.exists()
    slot.refresh_from_db()
    assert slot.booked == 0


@pytest.mark.django_db(transaction=True)
def test_each_booking_gets_its_own_rows_even_when_a_code_is_taken(hall_service, hall, monkeypatch):
    """Participants and audit rows go to the booking they belong to (on PostgreSQL they are
    inserted in the same statement as the bookings, matched by check-in code), also when a
    drawn code is taken and that booking is written again with a fresh one."""
    slot = _slot(hall_service, hall, capacity=5)
    taken = _pending(make_user("t"), slot)
    batching._run([taken])
    codes = iter([taken.booking.code, "FRESHAAAA2", "FRESHBBBB3", "FRESHCCCC4"])
    monkeypatch.setattr(slot_writes, "new_checkin_code", lambda: next(codes))
    batch = []
    for name in ("a", "b"):
        p = _pending(make_user(name), slot, places=2)
        p.people = [Participant(position=j, answers={"who": f"{name}{j}"}) for j in range(2)]
        batch.append(p)

    batching._run(batch)

    assert [p.error for p in batch] == [None, None]
    first, second = (p.booking for p in batch)
    assert first.code != taken.booking.code and second.code.startswith("FRESH")
    for b, name in ((first, "a"), (second, "b")):
        stored = Booking.objects.get(code=b.code)
        assert stored.pk == b.pk and stored.customer.name == name and stored.places == 2
        assert [p.answers for p in stored.participants.order_by("position")] == [
            {"who": f"{name}0"},
            {"who": f"{name}1"},
        ]
        entry = AuditLog.objects.get(action="booking.create", target_id=str(b.pk))
        assert entry.actor_id == b.customer_id and entry.data == {"slot": slot.pk, "places": 2}
    slot.refresh_from_db()
    assert slot.booked == 5 == sum(b.places for b in Booking.objects.filter(slot=slot))
    assert slot_counts_consistent(slot)


@pytest.mark.django_db(transaction=True)
def test_bookings_with_different_limits_in_one_batch(hall_service, hall, merchant):
    """A batch may mix services with different per-user limits: each booking gets its own."""
    from yuyue.catalog.models import Service

    strict = Service.objects.get(pk=hall_service.pk)
    strict.per_user_limit = 1
    strict.save()
    lenient = Service.objects.create(
        merchant=merchant, name="Lenient", kind=strict.kind, per_user_limit=3
    )
    a, b = _slot(strict, hall, capacity=9), _slot(lenient, hall, capacity=9, hours=30)
    who = make_user("w")
    batch = [_pending(who, a), _pending(who, b), _pending(who, a), _pending(who, b)]

    batching._run(batch)

    assert [p.error.code if p.error else "booked" for p in batch] == [
        "booked",
        "booked",
        "per_user_limit",
        "booked",
    ]
    assert (_usage(a, who), _usage(b, who)) == (1, 2)


@pytest.mark.django_db(transaction=True)
def test_a_lone_booking_whose_code_is_taken_is_written_whole_with_another(
    hall_service, hall, monkeypatch
):
    """A lone booking is one statement on PostgreSQL, with no transaction around it: a taken
    code fails that statement as a whole (no places, no usage, no rows kept), and the booking is
    written again with a fresh code."""
    slot = _slot(hall_service, hall, capacity=3)
    first = _pending(make_user("f"), slot)
    batching.write_bookings(first)
    codes = iter([first.booking.code, "LONEFRESH2", "LATEAAAAA3"])
    monkeypatch.setattr(slot_writes, "new_checkin_code", lambda: next(codes))
    again = _pending(make_user("a"), slot, places=2)

    booking = batching.write_bookings(again)

    assert booking.code == "LONEFRESH2" and again.written and again.error is None
    slot.refresh_from_db()
    assert slot.booked == 3 == sum(b.places for b in Booking.objects.filter(slot=slot))
    assert slot_counts_consistent(slot)
    assert _usage(slot, again.booking.customer) == 1
    assert Participant.objects.filter(booking=booking).count() == 2
    # and a slot that is now full refuses the next one, with nothing kept
    late = _pending(make_user("l"), slot)
    with pytest.raises(DomainError, match="slot_full"):
        batching.write_bookings(late)
    assert _usage(slot, late.booking.customer) == 0
    assert not SlotUsage.objects.filter(customer=late.booking.customer).exists()
