"""The waiting list of a full hall slot (候补).

A customer who finds a slot full joins its list with the booking form already answered (checked
now, kept encrypted). When places come back (a cancellation, by the customer or the staff, or an
unpaid booking that expired), a job books the waiting customers in the order they joined, each by
`book_slot` — the same guards as any booking, so a place freed is never given twice and a
customer never passes their per-user limit. A paid service's booking then waits for payment until
its `pay_before` (the customer is told); if it expires unpaid, its places come back and the next
in line gets them. An entry that needs more places than are free waits and lets a smaller one
behind it through; one that can never be booked (the per-user limit, the slot closed) leaves the
list with its reason.
"""

from __future__ import annotations

from django.db import IntegrityError, transaction
from django.utils import timezone

from yuyue.core.audit import audit
from yuyue.core.errors import DomainError
from yuyue.notifications.sending import notify

from .models import Booking, SlotUsage, WaitlistEntry, WaitStatus
from .placing import _answers, _check_slot, _read_slot, book_slot

FREEING_STEPS = frozenset({"cancel", "staff_cancel", "expire"})


def join_waitlist(
    *, actor, slot_id: int, places: int, participants: list[dict] | None
) -> WaitlistEntry:
    """Wait for `places` in a slot that has not got them free now; the answers are checked as
    a booking's would be."""
    customer, slot = _read_slot(actor, slot_id)
    now = timezone.now()
    try:
        _check_slot(slot, places, now)
    except DomainError as exc:
        if exc.code != "slot_full":
            raise
    remaining = slot.remaining
    if remaining is None or remaining >= places:
        raise DomainError("slot_has_room")
    _answers(slot, places, participants)  # invalid_form now, not when a place frees up
    held = SlotUsage.objects.filter(slot=slot, customer=customer).values_list("count", flat=True)
    if (held.first() or 0) >= slot.service.per_user_limit:
        raise DomainError("per_user_limit", limit=slot.service.per_user_limit)
    try:
        with transaction.atomic():
            entry = WaitlistEntry.objects.create(
                slot=slot, customer=customer, places=places, participants=participants or None
            )
    except IntegrityError as exc:
        raise DomainError("already_waiting") from exc
    audit(customer, "waitlist.join", entry, slot=slot.pk, places=places)
    return entry


def leave_waitlist(*, actor, entry_id: int) -> WaitlistEntry:
    entry = WaitlistEntry.objects.filter(
        pk=entry_id, customer_id=getattr(actor, "pk", None)
    ).first()
    if entry is None:
        raise DomainError("not_found")
    WaitlistEntry.objects.filter(pk=entry.pk, status=WaitStatus.WAITING).update(
        status=WaitStatus.LEFT, decided_at=timezone.now()
    )
    entry.refresh_from_db()
    return entry


def my_waitlist(*, actor) -> list[WaitlistEntry]:
    return list(
        WaitlistEntry.objects.filter(customer_id=actor.pk, status=WaitStatus.WAITING)
        .select_related("slot__service__merchant", "slot__hall")
        .order_by("slot__starts_at")
    )


def fill_from_waitlist(*, slot_id: int) -> list[Booking]:
    """Book the waiting customers of a slot into its free places, first come first served.

    Each entry is claimed (a conditional UPDATE from `waiting`) and booked in one transaction,
    so two of these running at once (two cancellations) never book one entry twice: the second
    finds it claimed. A refused booking undoes the claim with it."""
    booked = []
    for entry in WaitlistEntry.objects.filter(slot_id=slot_id, status=WaitStatus.WAITING):
        try:
            with transaction.atomic():
                if not WaitlistEntry.objects.filter(pk=entry.pk, status=WaitStatus.WAITING).update(
                    status=WaitStatus.BOOKED, decided_at=timezone.now()
                ):
                    continue  # claimed by another run meanwhile
                booking = book_slot(
                    actor=entry.customer,
                    slot_id=slot_id,
                    places=entry.places,
                    participants=entry.participants,
                )
                WaitlistEntry.objects.filter(pk=entry.pk).update(booking=booking)
                audit(None, "waitlist.booked", entry, booking=booking.pk)
                notify(
                    entry.customer_id,
                    "waitlist.booked",
                    booking=booking.pk,
                    service=booking.service.name,
                    starts_at=booking.starts_at.isoformat(),
                    pay_before=booking.pay_before.isoformat() if booking.pay_before else None,
                )
        except DomainError as exc:
            if exc.code == "slot_full":
                continue  # too many places for what is free: a smaller entry may fit
            closed = exc.code in ("slot_closed", "slot_past", "booking_closed")
            _decide(entry, WaitStatus.CLOSED if closed else WaitStatus.FAILED, reason=exc.code)
            continue
        booked.append(booking)
    return booked


def _decide(entry: WaitlistEntry, status: str, *, booking=None, reason: str = "") -> None:
    WaitlistEntry.objects.filter(pk=entry.pk, status=WaitStatus.WAITING).update(
        status=status, booking=booking, reason=reason, decided_at=timezone.now()
    )
    audit(None, f"waitlist.{status}", entry, booking=booking.pk if booking else None, reason=reason)


def places_freed(sender, *, booking: Booking, step: str, **_) -> None:
    """Receiver of `events.step_taken`: a hall booking gave its places back; after the commit,
    the slot's waiting list gets them (a job: booking takes a moment and may notify)."""
    if step not in FREEING_STEPS or not booking.slot_id:
        return
    if not WaitlistEntry.objects.filter(
        slot_id=booking.slot_id, status=WaitStatus.WAITING
    ).exists():
        return
    slot_id = booking.slot_id

    def enqueue():
        from .tasks import fill_waitlist_job

        fill_waitlist_job.enqueue(slot_id)

    transaction.on_commit(enqueue)
