"""The orders part's use cases, in one place to import them from. Each lives in a module of its
own topic:

- `placing`: book a hall slot (guarded write in `slot_writes`), book a chosen provider, and
  `place_order`, the insert every channel uses; `reserve_provider_time`, the guard on a
  provider's time;
- `payment`: confirm a payment, expire an unpaid order, revive one paid after it expired;
- `cancelling`: by the customer within the cancel policy, by staff with a reason;
- `checkin`: redeem a code at the counter 核销;
- `fulfilment`: the provider's steps on site; `series`: recurring bookings;
- `reminders`: when a booking's reminders are due and the sweep that sends them.

Every guard is in the database (see docs/architecture.md and `locks`); what a change means to
the parts above (money, calls, tracking) they learn from `events`.
"""

from .cancelling import cancel_booking, cancel_booking_by_staff, cancel_order, release_holdings
from .checkin import check_in
from .payment import (
    AFTER_PAYMENT,
    REVIVE,
    confirm_payment,
    expire_due_unpaid,
    expire_unpaid,
    revive_paid,
)
from .placing import (
    book_provider,
    book_slot,
    payment_terms,
    place_order,
    require_customer,
    reserve_provider_time,
)
from .reminders import first_reminder_at, send_due_reminders

__all__ = [
    "AFTER_PAYMENT",
    "REVIVE",
    "book_provider",
    "book_slot",
    "cancel_booking",
    "cancel_booking_by_staff",
    "cancel_order",
    "check_in",
    "confirm_payment",
    "expire_due_unpaid",
    "expire_unpaid",
    "first_reminder_at",
    "payment_terms",
    "place_order",
    "release_holdings",
    "require_customer",
    "reserve_provider_time",
    "revive_paid",
    "send_due_reminders",
]
