"""The waiting list of a full slot: join with the form answered, and the freed places go to
those waiting, first come first served, by the guards of any booking."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.utils import timezone

from tests.conftest import api_for, make_user
from yuyue.catalog.models import Hall
from yuyue.notifications.models import Notice
from yuyue.orders.cancelling import cancel_booking
from yuyue.orders.models import BookingStatus, WaitlistEntry, WaitStatus
from yuyue.orders.placing import book_slot
from yuyue.orders.waitlist import fill_from_waitlist, join_waitlist
from yuyue.scheduling.models import TimeSlot


@pytest.fixture
def full(hall_service, merchant):
    """A slot of 2 places, both taken by one customer."""
    hall_service.per_user_limit = 3
    hall_service.max_places_per_booking = 3
    hall_service.save()
    start = timezone.now().replace(second=0, microsecond=0) + dt.timedelta(days=2)
    slot = TimeSlot.objects.create(
        service=hall_service,
        hall=Hall.objects.create(merchant=merchant, name="A"),
        starts_at=start,
        ends_at=start + dt.timedelta(hours=1),
        capacity=2,
    )
    holder = make_user("Holder")
    taken = [book_slot(actor=holder, slot_id=slot.pk, places=1, participants=None) for _ in "ab"]
    return slot, holder, taken


@pytest.mark.django_db
def test_a_freed_place_goes_to_the_first_who_fits(full, customer, other_customer):
    slot, holder, taken = full
    big = join_waitlist(actor=customer, slot_id=slot.pk, places=2, participants=None)
    small = join_waitlist(actor=other_customer, slot_id=slot.pk, places=1, participants=None)
    cancel_booking(actor=holder, booking_id=taken[0].pk)
    booked = fill_from_waitlist(slot_id=slot.pk)  # one place free: the 2-place entry waits
    assert [b.customer_id for b in booked] == [other_customer.pk]
    big.refresh_from_db()
    small.refresh_from_db()
    assert (big.status, small.status) == (WaitStatus.WAITING, WaitStatus.BOOKED)
    assert small.booking.status == BookingStatus.BOOKED
    slot.refresh_from_db()
    assert slot.booked == 2  # never more than the capacity
    notice = Notice.objects.get(user=other_customer, kind="waitlist.booked")
    assert notice.payload["booking"] == small.booking_id


@pytest.mark.django_db(transaction=True)
def test_a_cancellation_books_the_waiting_customer_through_the_worker(full, customer):
    slot, holder, taken = full
    status, body = api_for(customer).post("/api/waitlist", {"slot_id": slot.pk, "places": 1})
    assert status == 201, body
    api_for(holder).post(f"/api/bookings/{taken[1].pk}/cancel")
    call_command("db_worker", "--batch", "--no-startup-delay", verbosity=0)
    entry = WaitlistEntry.objects.get(customer=customer)
    assert entry.status == WaitStatus.BOOKED and entry.booking.customer_id == customer.pk
    status, mine = api_for(customer).get("/api/bookings", {"view": "upcoming"})
    assert [b["id"] for b in mine] == [entry.booking_id]


@pytest.mark.django_db
def test_joining_is_for_full_slots_once_with_a_valid_form(full, customer, hall_service):
    slot, holder, taken = full
    join_waitlist(actor=customer, slot_id=slot.pk, places=1, participants=None)
    status, body = api_for(customer).post("/api/waitlist", {"slot_id": slot.pk, "places": 1})
    assert (status, body["code"]) == (409, "already_waiting")
    cancel_booking(actor=holder, booking_id=taken[0].pk)
    fill_from_waitlist(slot_id=slot.pk)
    status, body = api_for(make_user("Late")).post(
        "/api/waitlist", {"slot_id": slot.pk, "places": 1}
    )
    assert status == 201  # the freed place went to the list: full again, so one may wait
    cancel_booking(actor=holder, booking_id=taken[1].pk)
    status, body = api_for(make_user("Later")).post(
        "/api/waitlist", {"slot_id": slot.pk, "places": 1}
    )
    assert (status, body["code"]) == (409, "slot_has_room")


@pytest.mark.django_db
def test_someone_over_their_limit_leaves_the_list_with_the_reason(full, customer):
    """The holder (limit 2, holding 1) waits for one more; the limit is lowered to 1 before a
    place frees: their entry fails with the reason and the next in line is booked."""
    slot, holder, taken = full
    cancel_booking(actor=holder, booking_id=taken[1].pk)
    book_slot(actor=make_user("Walk-in"), slot_id=slot.pk, places=1, participants=None)
    slot.service.per_user_limit = 2
    slot.service.save()
    mine = join_waitlist(actor=holder, slot_id=slot.pk, places=1, participants=None)
    nxt = join_waitlist(actor=customer, slot_id=slot.pk, places=1, participants=None)
    slot.service.per_user_limit = 1
    slot.service.save()
    other = taken[0].__class__.objects.filter(slot=slot, status="booked").exclude(customer=holder)
    cancel_booking(actor=other.get().customer, booking_id=other.get().pk)
    fill_from_waitlist(slot_id=slot.pk)
    mine.refresh_from_db()
    nxt.refresh_from_db()
    assert (mine.status, mine.reason) == (WaitStatus.FAILED, "per_user_limit")
    assert nxt.status == WaitStatus.BOOKED


@pytest.mark.django_db
def test_leaving_the_list_and_strangers(full, customer, other_customer):
    slot, _, _ = full
    entry = join_waitlist(actor=customer, slot_id=slot.pk, places=1, participants=None)
    status, body = api_for(other_customer).delete(f"/api/waitlist/{entry.pk}")
    assert (status, body["code"]) == (404, "not_found")
    assert api_for(customer).get("/api/waitlist")[1][0]["id"] == entry.pk
    assert api_for(customer).delete(f"/api/waitlist/{entry.pk}")[0] == 204
    entry.refresh_from_db()
    assert entry.status == WaitStatus.LEFT
    assert api_for(customer).get("/api/waitlist")[1] == []


@pytest.mark.django_db
def test_running_again_books_nobody_twice(full, customer):
    """Two cancellations make two jobs: the second finds the entry already booked."""
    slot, holder, taken = full
    entry = join_waitlist(actor=customer, slot_id=slot.pk, places=1, participants=None)
    for booking in taken:
        cancel_booking(actor=holder, booking_id=booking.pk)
    first = fill_from_waitlist(slot_id=slot.pk)
    again = fill_from_waitlist(slot_id=slot.pk)
    assert len(first) == 1 and again == []
    entry.refresh_from_db()
    assert entry.status == WaitStatus.BOOKED
    assert customer.bookings.filter(slot=slot).count() == 1
