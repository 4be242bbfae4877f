"""Bearer tokens for the API."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from django.conf import settings
from django.utils import timezone

from .models import ApiToken, User


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def issue_token(*, user: User, via: str) -> tuple[str, ApiToken]:
    """Create a token for `user`; the plain key is returned once and never stored."""
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        key_hash=_hash(key),
        via=via,
        expires_at=timezone.now() + dt.timedelta(days=settings.YUYUE_TOKEN_DAYS),
    )
    return key, token


def user_for_token(key: str) -> User | None:
    if not key or len(key) > 200:
        return None
    token = (
        ApiToken.objects.select_related("user")
        .filter(key_hash=_hash(key), revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    return token.user


def revoke_token(key: str) -> bool:
    return bool(
        ApiToken.objects.filter(key_hash=_hash(key), revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    )
