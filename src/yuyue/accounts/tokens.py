"""Bearer tokens for the API."""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from functools import cache

from django.conf import settings
from django.utils import timezone

from yuyue.core import sql

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


MAX_KEY_LENGTH = 200  # longer is no key of ours: refused without a statement


@cache
def _live_token_user() -> str:
    """The owner of the live token whose key hashes to the first parameter (the second: now)."""
    return (
        f"(SELECT {sql.column(ApiToken, 'user')} FROM {sql.table(ApiToken)}"
        f" WHERE {sql.column(ApiToken, 'key_hash')} = %s"
        f" AND {sql.column(ApiToken, 'revoked_at')} IS NULL"
        f" AND {sql.column(ApiToken, 'expires_at')} > %s)"
    )


@cache
def _live_token_owner() -> str:
    return f"t0.{sql.qn(User._meta.pk.column)} = {_live_token_user()}"


@cache
def live_user_sql() -> str:
    """An SQL expression: the key of the active user whose live token hashes to the first
    parameter (the second: now), or NULL. For a statement that takes the token's lookup along
    with its own read (`accounts.auth.BearerKey`); parameters from `live_user_params`."""
    return (
        f"(SELECT {sql.column(User, 'id')} FROM {sql.table(User)}"
        f" WHERE {sql.column(User, 'id')} = {_live_token_user()}"
        f" AND {sql.column(User, 'is_active')})"
    )


def live_user_params(key: str) -> list:
    return [_hash(key), sql.param(ApiToken, "expires_at", timezone.now())]


def user_for_token(key: str) -> User | None:
    """The active user a live token belongs to. Every API request asks, so this is one statement
    built once (`yuyue.core.sql`), not an ORM query compiled per request."""
    if not key or len(key) > MAX_KEY_LENGTH:
        return None
    user = sql.select_one(User, _live_token_owner(), live_user_params(key))
    if user is None or not user.is_active:
        return None
    return user


def revoke_token(key: str) -> bool:
    return bool(
        ApiToken.objects.filter(key_hash=_hash(key), revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
    )
