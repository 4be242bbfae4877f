"""Jobs of the order's life, run by the database-backed worker."""

from django_tasks import task


@task()
def expire_unpaid_booking(booking_id: int) -> bool:
    """At the payment deadline: expire the order if it is still unpaid."""
    from .services import expire_unpaid

    return expire_unpaid(booking_id=booking_id)
