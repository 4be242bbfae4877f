"""What happens to an order, announced to the parts above it.

orders imports nothing above it: billing (payments, refunds, settlement, coupon claims), calls
(the call of a timed session) and dispatch (live tracking) subscribe to these signals in their
`AppConfig.ready()`, as pretix's plugins listen to `order_placed` / `order_paid`.

Both signals are sent **inside the transaction** of the change, once the change is written:

- a receiver that writes (a coupon claim released, a call opened or closed, a settlement job
  scheduled) writes in that transaction, and a receiver that raises undoes the change with it;
- a receiver whose effect must not happen unless the change commits (a push to a websocket, a job
  that calls a gateway) wraps it in `transaction.on_commit` itself.

`order_placed(booking)`
    A new order holding a provider's time or a dispatch request was written: every channel but
    hall slots, whose bookings are written in batches by `slot_writes` and need no one above.
`step_taken(booking, step, before, actor, role)`
    The order moved by `step` (a name of `states.STEPS`) from status `before`; `booking` is
    reloaded, so it shows the new status and every column the step wrote.
"""

from __future__ import annotations

from django.dispatch import Signal

order_placed = Signal()
step_taken = Signal()
