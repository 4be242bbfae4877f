"""The order's state machine: every legal step, who may take it, in one place.

`apply_step` is the only way an order's status changes. It is a conditional UPDATE from the
states the step may start in; if another request moved the order first, the row count is 0 and
the step is refused with the state the order is really in. Each step writes a BookingEvent
(actor, role, time and, for provider steps, the place) and an audit record in the caller's
transaction, and announces itself (`events.step_taken`) to the parts above.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction

from yuyue.accounts.auth import staff_role
from yuyue.core.audit import audit
from yuyue.core.errors import DomainError

from .events import step_taken
from .models import Booking, BookingEvent
from .models import BookingStatus as S

CUSTOMER, PROVIDER, STAFF, OPERATOR, SYSTEM = "customer", "provider", "staff", "operator", "system"


@dataclass(frozen=True)
class Step:
    sources: frozenset[str]
    target: str
    roles: frozenset[str]


def _step(sources, target, *roles) -> Step:
    return Step(frozenset(sources), target, frozenset(roles))


# Statuses in which an order holds a place in a slot or a provider's time.
HOLDING = frozenset(
    {
        S.AWAITING_PAYMENT,
        S.AWAITING_PROVIDER,
        S.BOOKED,
        S.ACCEPTED,
        S.DEPARTED,
        S.ARRIVED,
        S.IN_SERVICE,
        S.COMPLETED,
        S.CHECKED_IN,
    }
)
CLOSED = frozenset(
    {S.COMPLETED, S.CHECKED_IN, S.CANCELLED, S.CANCELLED_BY_STAFF, S.EXPIRED, S.NO_SHOW}
)
BEFORE_SERVICE = frozenset(
    {S.AWAITING_PAYMENT, S.AWAITING_PROVIDER, S.BOOKED, S.ACCEPTED, S.DEPARTED, S.ARRIVED}
)

STEPS: dict[str, Step] = {
    # payment (the money issue's gateway calls confirm_payment, which takes this step)
    "pay_for_slot": _step({S.AWAITING_PAYMENT}, S.BOOKED, SYSTEM),
    "pay_for_dispatch": _step({S.AWAITING_PAYMENT}, S.AWAITING_PROVIDER, SYSTEM),
    "pay_for_provider": _step({S.AWAITING_PAYMENT}, S.ACCEPTED, SYSTEM),
    "expire": _step({S.AWAITING_PAYMENT}, S.EXPIRED, SYSTEM),
    # paid after it expired, and its place or time is still free: it lives again, paid
    "revive_slot": _step({S.EXPIRED}, S.BOOKED, SYSTEM),
    "revive_dispatch": _step({S.EXPIRED}, S.AWAITING_PROVIDER, SYSTEM),
    "revive_provider": _step({S.EXPIRED}, S.ACCEPTED, SYSTEM),
    # a provider takes the order: an accepted offer, a grab, a pick in the task hall, or by hand
    "accept": _step({S.AWAITING_PROVIDER}, S.ACCEPTED, PROVIDER, STAFF, OPERATOR, SYSTEM),
    "reassign": _step({S.ACCEPTED}, S.ACCEPTED, STAFF, OPERATOR),
    "release": _step({S.ACCEPTED, S.DEPARTED}, S.AWAITING_PROVIDER, PROVIDER, STAFF, OPERATOR),
    # the work, step by step, each by the provider and with a place
    "depart": _step({S.ACCEPTED}, S.DEPARTED, PROVIDER),
    "arrive": _step({S.DEPARTED}, S.ARRIVED, PROVIDER),
    "start": _step({S.ARRIVED}, S.IN_SERVICE, PROVIDER),
    "complete": _step({S.IN_SERVICE}, S.COMPLETED, PROVIDER),
    # timed calls: the meter starts when both sides are in, the call ends and is billed once
    "call_start": _step({S.ACCEPTED}, S.IN_SERVICE, SYSTEM),
    "call_end": _step({S.IN_SERVICE}, S.COMPLETED, SYSTEM),
    "call_missed": _step({S.ACCEPTED}, S.NO_SHOW, SYSTEM),
    # the customer did not come (hall slot, after it ended) or was not there (on-site, after the
    # provider arrived and waited)
    "no_show": _step({S.BOOKED, S.ARRIVED}, S.NO_SHOW, PROVIDER, SYSTEM),
    # hall slots
    "check_in": _step({S.BOOKED}, S.CHECKED_IN, STAFF, OPERATOR),
    # cancelling
    "cancel": _step(BEFORE_SERVICE, S.CANCELLED, CUSTOMER),
    "staff_cancel": _step(BEFORE_SERVICE, S.CANCELLED_BY_STAFF, STAFF, OPERATOR),
}


def roles_of(actor, booking: Booking) -> set[str]:
    """Every role `actor` holds towards this order."""
    roles: set[str] = set()
    if actor is None:
        return {SYSTEM}
    if getattr(actor, "is_operator", False):
        roles.add(OPERATOR)
    if booking.customer_id == actor.pk:
        roles.add(CUSTOMER)
    provider = getattr(actor, "provider", None) if hasattr(actor, "provider") else None
    if provider is not None and booking.provider_id == provider.pk:
        roles.add(PROVIDER)
    if staff_role(actor, booking.merchant_id):
        roles.add(STAFF)
    return roles


def apply_step(
    booking: Booking,
    step_name: str,
    *,
    actor,
    role: str | None = None,
    lat: float | None = None,
    lng: float | None = None,
    note: str = "",
    extra_filter: dict | None = None,
    **updates,
) -> Booking:
    """Move `booking` by `step_name` if its state and the actor's role allow it.

    Must run inside the caller's transaction. `updates` are other columns written by the same
    UPDATE (e.g. provider, cancelled_at); `extra_filter` narrows the UPDATE further (e.g. the
    provider the caller expects to hold the order).
    """
    assert transaction.get_connection().in_atomic_block, "apply_step needs a transaction"
    step = STEPS[step_name]
    held = roles_of(actor, booking)
    incoming = updates.get("provider")
    if actor is not None and incoming is not None and incoming.user_id == actor.pk:
        held.add(PROVIDER)  # a provider taking the order (accept, grab) acts as its provider
    if role is None:
        allowed = held & step.roles
        if not allowed:
            raise DomainError("forbidden")
        role = sorted(allowed)[0]
    elif role not in held or role not in step.roles:
        raise DomainError("forbidden")
    rows = Booking.objects.filter(pk=booking.pk, status__in=step.sources, **(extra_filter or {}))
    if not rows.update(status=step.target, **updates):
        current = Booking.objects.filter(pk=booking.pk).values_list("status", flat=True).first()
        raise DomainError("illegal_transition", step=step_name, state=current)
    BookingEvent.objects.create(
        booking=booking,
        step=step_name,
        from_status=booking.status,
        to_status=step.target,
        actor=actor if actor else None,
        role=role,
        lat=lat,
        lng=lng,
        note=note[:300],
    )
    audit(actor, f"booking.{step_name}", booking, to=step.target, role=role)
    before = booking.status
    booking.refresh_from_db()
    step_taken.send(
        sender=Booking, booking=booking, step=step_name, before=before, actor=actor, role=role
    )
    return booking
