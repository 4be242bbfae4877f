"""Phone numbers: validated with phonenumbers, stored as E.164, encrypted, found by blind index."""

from __future__ import annotations

import phonenumbers
from django.conf import settings

from yuyue.core.crypto import blind_index
from yuyue.core.errors import DomainError


def normalize_phone(raw: str | None) -> str:
    """E.164 form of a mobile number, or DomainError('invalid_phone')."""
    if not raw or not isinstance(raw, str) or len(raw) > 32:
        raise DomainError("invalid_phone")
    try:
        number = phonenumbers.parse(raw, settings.YUYUE_DEFAULT_REGION)
    except phonenumbers.NumberParseException as exc:
        raise DomainError("invalid_phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise DomainError("invalid_phone")
    kind = phonenumbers.number_type(number)
    if kind not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        raise DomainError("invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_index(e164: str) -> str:
    return blind_index(e164, "phone")
