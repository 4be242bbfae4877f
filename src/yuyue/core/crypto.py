"""Personal data at rest: phone and ID numbers are stored encrypted (Fernet) and, where we must
look them up, beside a keyed hash (a blind index)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.db import models


@lru_cache(maxsize=4)
def _fernet(key: str) -> Fernet:
    digest = hashlib.sha256(("yuyue-fernet:" + key).encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def encrypt(text: str) -> str:
    return _fernet(settings.FIELD_ENCRYPTION_KEY).encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    try:
        return _fernet(settings.FIELD_ENCRYPTION_KEY).decrypt(token.encode()).decode()
    except InvalidToken as exc:  # a wrong key is an operations error, never user input
        raise RuntimeError(
            "cannot decrypt a personal data field: wrong FIELD_ENCRYPTION_KEY?"
        ) from exc


def blind_index(value: str, purpose: str) -> str:
    key = hashlib.sha256(("yuyue-index:" + settings.FIELD_ENCRYPTION_KEY).encode()).digest()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


class EncryptedTextField(models.TextField):
    """A text column whose value is encrypted before it reaches the database."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(value)


class EncryptedJSONField(models.TextField):
    """JSON stored encrypted (form answers hold names, phone and ID numbers)."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return None
        return json.loads(decrypt(value))

    def to_python(self, value):
        if isinstance(value, str):
            return json.loads(value)
        return value

    def get_prep_value(self, value):
        if value is None:
            return None
        return encrypt(json.dumps(value, ensure_ascii=False, sort_keys=True))


def mask_phone(e164: str) -> str:
    if not e164:
        return ""
    return e164[:-8] + "****" + e164[-4:] if len(e164) > 8 else "****"


def mask_id_number(number: str) -> str:
    if not number:
        return ""
    return number[:4] + "*" * max(len(number) - 8, 0) + number[-4:] if len(number) > 8 else "****"
