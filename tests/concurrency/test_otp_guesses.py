"""Many guesses of one login code at once: at most YUYUE_OTP_MAX_ATTEMPTS are ever compared.

60 simultaneous wrong `POST /api/auth/otp/verify` for one phone, as an attacker would send
them, then the right code, which no longer signs in. Each try is counted before the
comparison, in one conditional update; the control counts it the classic way (read,
compare, write back) and lets many more guesses be compared than the limit allows.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.conf import settings
from django.utils import timezone

from tests.conftest import next_phone
from tests.livesrv import Call, storm
from yuyue.accounts.models import ApiToken, OneTimeCode
from yuyue.accounts.phones import normalize_phone, phone_index
from yuyue.accounts.services import _code_hash

from .conftest import assert_clean, outcome

WRONG = 60
RIGHT = "424242"


def _guess(server):
    phone = next_phone()
    index = phone_index(normalize_phone(phone))
    OneTimeCode.objects.create(
        phone_index=index,
        code_hash=_code_hash(index, RIGHT),
        expires_at=timezone.now() + dt.timedelta(minutes=5),
    )
    codes = [f"{i:06d}" for i in range(WRONG)]  # all wrong: each otp_invalid was compared
    calls = [Call("POST", "/api/auth/otp/verify", {"phone": phone, "code": c}) for c in codes]
    replies = storm(server.url, calls)
    print(outcome(replies))
    assert_clean(replies, server)
    compared = [r for r in replies if r.code == "otp_invalid"]
    # the try that used the last attempt answers otp_too_many_attempts after its comparison
    last = OneTimeCode.objects.get(phone_index=index).attempts
    return replies, compared, last, phone


@pytest.mark.django_db(transaction=True)
def test_at_most_the_limit_of_guesses_is_compared(server):
    replies, compared, attempts, phone = _guess(server)
    limit = settings.YUYUE_OTP_MAX_ATTEMPTS
    assert attempts <= limit, outcome(replies)  # the counter: every comparison counted first
    assert len(compared) <= limit, outcome(replies)
    refused = {r.code for r in replies if r not in compared}
    assert refused <= {"otp_too_many_attempts", "too_many_requests"}, outcome(replies)
    # the right code, after the limit was spent on wrong ones, no longer signs in
    [late] = storm(
        server.url, [Call("POST", "/api/auth/otp/verify", {"phone": phone, "code": RIGHT})]
    )
    assert late.code in {"otp_too_many_attempts", "too_many_requests"}, late.text
    assert ApiToken.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_control_counting_after_the_read_lets_guesses_through(unguarded_server):
    replies, compared, _, _ = _guess(unguarded_server)
    assert len(compared) > settings.YUYUE_OTP_MAX_ATTEMPTS, outcome(replies)
