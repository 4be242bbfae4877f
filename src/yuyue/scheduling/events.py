"""What happens to a calendar that the parts above act on (orders tells those booked).

`slots_closed` is sent inside the closing transaction with the closed slots' ids, the actor and
the message staff wrote for those booked (may be empty)."""

from django.dispatch import Signal

slots_closed = Signal()  # sender=TimeSlot, slot_ids: list[int], message: str, actor
