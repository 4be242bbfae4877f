"""Jobs of the order's life, run by the database-backed worker."""

from django_tasks import task

from yuyue.core.periodic import periodic


@task()
def expire_unpaid_booking(booking_id: int) -> bool:
    """Kept for job rows enqueued before the expiry sweep (ADR 0010): expire the order if it is
    still unpaid. New orders get no job; `expire_unpaid_job` finds them by their deadline."""
    from .services import expire_unpaid

    return expire_unpaid(booking_id=booking_id)


@periodic(every="YUYUE_PAYMENT_SWEEP_SECONDS")
def expire_unpaid_job() -> int:
    """Every YUYUE_PAYMENT_SWEEP_SECONDS: unpaid orders past their deadline expire."""
    from .services import expire_due_unpaid

    return expire_due_unpaid()


@periodic(every="YUYUE_REMINDER_SWEEP_SECONDS")
def send_reminders_job() -> dict[str, int]:
    """Every YUYUE_REMINDER_SWEEP_SECONDS: the reminders that are due (`send_due_reminders`)."""
    from .services import send_due_reminders

    return send_due_reminders()


@task()
def fill_waitlist_job(slot_id: int) -> int:
    """Places came back to a slot: book its waiting customers into them (`waitlist`)."""
    from .waitlist import fill_from_waitlist

    return len(fill_from_waitlist(slot_id=slot_id))
