"""Sign-in housekeeping on the database worker."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from yuyue.core.periodic import periodic

from .models import ApiToken, OneTimeCode

OTP_RETENTION = dt.timedelta(days=1)


@periodic(every=dt.timedelta(hours=1))
def purge_sign_in_job() -> dict:
    """Delete spent login codes and expired tokens; again in an hour."""
    now = timezone.now()
    return {
        "otp": OneTimeCode.objects.filter(expires_at__lt=now - OTP_RETENTION).delete()[0],
        "tokens": ApiToken.objects.filter(expires_at__lt=now).delete()[0],
    }
