"""Sending notices beyond the app on the database worker."""

from __future__ import annotations

import datetime as dt

from yuyue.core.periodic import periodic

from . import delivery


@periodic(every=dt.timedelta(seconds=15))
def send_deliveries_job() -> dict:
    """Send the WeChat subscribe messages that are due; again in 15 seconds."""
    return delivery.send_due()
