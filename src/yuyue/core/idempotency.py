"""Idempotency-Key for create endpoints: a retry with the same key gets the first answer."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.db import IntegrityError, transaction
from ninja import Header, Schema, Status

from .errors import DomainError
from .models import IdempotencyRecord


def _hash(payload) -> str:
    return hashlib.sha256(
        json.dumps(payload, sort_keys=True, default=str, ensure_ascii=False).encode()
    ).hexdigest()


def run_idempotent(
    *, user, key: str | None, scope: str, payload, produce: Callable[[], tuple[int, dict]]
) -> tuple[int, dict]:
    """Run `produce` once per (user, scope, key); store and replay its (status, body).

    The key's row is inserted first, in the same transaction as the work, so either both exist
    or neither. A concurrent request with the same key blocks on that unique row until the first
    commits, then fails to insert it and answers with the first's response; it never runs the
    work itself (where it would trip over the first's booking, e.g. the per-user limit).
    Refusals (DomainError) are not stored: they changed nothing and may be retried.
    """
    if key is None:
        return produce()
    checked_key(key)
    request_hash = _hash(payload)

    def replay(record: IdempotencyRecord) -> tuple[int, dict]:
        if record.request_hash != request_hash:
            raise DomainError("idempotency_key_reused")
        return record.status, record.body

    existing = IdempotencyRecord.objects.filter(user=user, scope=scope, key=key).first()
    if existing is not None:
        return replay(existing)
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(
                user=user, scope=scope, key=key, request_hash=request_hash, status=0, body={}
            )
            status, body = produce()
            IdempotencyRecord.objects.filter(pk=record.pk).update(status=status, body=body)
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(user=user, scope=scope, key=key).first()
        if existing is None:
            raise
        return replay(existing)
    return status, body


def checked_key(key: str) -> str:
    """`key` if it is a usable Idempotency-Key (1 to 100 characters), else a refusal."""
    if not 1 <= len(key) <= 100:
        raise DomainError("idempotency_key_invalid")
    return key


def key_header(*, required: bool = False):
    """`idempotency_key: str | None = key_header()`: the optional header of a create endpoint;
    `key_header(required=True)` where doing it twice would move money twice."""
    return Header(
        ... if required else None,
        alias="Idempotency-Key",
        min_length=1,
        max_length=100,
        description=(
            "1 to 100 characters of your choosing, new for each thing you create. A retry with the "
            "same key and body gets the first answer and creates nothing more; the same key with "
            "another body is refused (idempotency_key_reused)."
        ),
    )


def created_once(
    request,
    body: Schema,
    key: str | None,
    *,
    scope: str,
    create: Callable[[], dict],
    schema: type[Schema],
    user=None,
) -> Status:
    """201 with what `create` made, as `schema`; replayed, not redone, for a retry that sends the
    same `key` and `body`. The key is the signed-in person's (`user`, if the caller has it)."""

    def produce() -> tuple[int, dict]:
        return 201, schema(**create()).model_dump(mode="json")

    return Status(
        *run_idempotent(
            user=user or request.auth,
            key=key,
            scope=scope,
            payload=body.model_dump(),
            produce=produce,
        )
    )
