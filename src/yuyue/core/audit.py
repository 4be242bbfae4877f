from __future__ import annotations

from typing import Any

from django.db import models

from . import sql
from .models import AuditLog


def audit_entry(actor, action: str, target: models.Model | None = None, **data: Any) -> AuditLog:
    """The audit row for an action, not yet written (`audit` writes one; a batch of bookings
    writes theirs together with `sql.insert_many`)."""
    return AuditLog(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        target_type=target._meta.label_lower if target is not None else "",
        target_id=str(target.pk) if target is not None else "",
        data=data,
    )


def audit(actor, action: str, target: models.Model | None = None, **data: Any) -> AuditLog:
    """Record a sensitive or state-changing action. Call inside the service's transaction."""
    return sql.insert(audit_entry(actor, action, target, **data))
