"""What dispatch does when an order changes: watchers of its live tracking hear of every step."""

from __future__ import annotations

from django.db import transaction

from yuyue.orders.models import Booking


def push_step(sender, *, booking: Booking, **_) -> None:
    transaction.on_commit(lambda: _push(booking.pk))


def _push(booking_id: int) -> None:
    from .tracking import push_order_status

    booking = Booking.objects.filter(pk=booking_id).first()
    if booking is not None:
        push_order_status(booking)
