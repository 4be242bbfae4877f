"""Writing the catalog: merchants (operators), halls, services and booking forms (managers)."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from yuyue.accounts.auth import MANAGERS, require_operator, require_staff
from yuyue.core.audit import audit
from yuyue.core.errors import DomainError
from yuyue.core.timeutil import is_valid_zone

from .models import (
    CancelPolicy,
    DeadlineRule,
    FieldType,
    FormField,
    Hall,
    Merchant,
    MerchantStatus,
    Service,
    ServiceKind,
)

MERCHANT_FIELDS = {"name", "timezone", "address", "lat", "lng", "phone"}
HALL_FIELDS = {"name", "address", "lat", "lng", "active"}
SERVICE_FIELDS = {
    "name",
    "description",
    "category_id",
    "kind",
    "duration_minutes",
    "base_price_fen",
    "active",
    "per_user_limit",
    "max_places_per_booking",
    "deadline_rule",
    "deadline_minutes",
    "cancel_policy",
    "buffer_minutes",
    "step_minutes",
}


def _apply(obj, changes: dict[str, Any], allowed: set[str]) -> dict[str, Any]:
    unknown = set(changes) - allowed
    if unknown:
        raise DomainError("invalid_input", f"Unknown fields: {', '.join(sorted(unknown))}")
    for name, value in changes.items():
        setattr(obj, name, value)
    return changes


def _check_merchant(m: Merchant) -> None:
    if not m.name or not m.name.strip():
        raise DomainError("invalid_input", "A merchant needs a name.")
    if not is_valid_zone(m.timezone):
        raise DomainError("invalid_timezone")
    if (m.lat is None) != (m.lng is None):
        raise DomainError("invalid_input", "Give both lat and lng, or neither.")
    if m.lat is not None and not (-90 <= m.lat <= 90 and -180 <= m.lng <= 180):
        raise DomainError("invalid_input", "lat/lng out of range.")


def create_merchant(*, actor, name: str, slug: str, **fields) -> Merchant:
    require_operator(actor)
    merchant = Merchant(name=name, slug=slug)
    _apply(merchant, fields, MERCHANT_FIELDS | {"status"})
    _check_merchant(merchant)
    try:
        with transaction.atomic():
            merchant.save()
            audit(actor, "merchant.create", merchant)
    except IntegrityError as exc:
        raise DomainError("slug_taken") from exc
    return merchant


def set_merchant_status(*, actor, merchant: Merchant, status: str) -> Merchant:
    """Approve (active), suspend, or send back to pending. Operators only."""
    require_operator(actor)
    if status not in MerchantStatus.values:
        raise DomainError("invalid_input", "Unknown status.")
    with transaction.atomic():
        Merchant.objects.filter(pk=merchant.pk).update(status=status)
        audit(actor, "merchant.status", merchant, status=status)
    merchant.refresh_from_db()
    return merchant


def update_merchant(*, actor, merchant: Merchant, **changes) -> Merchant:
    require_staff(actor, merchant.pk, MANAGERS)
    _apply(merchant, changes, MERCHANT_FIELDS)
    _check_merchant(merchant)
    with transaction.atomic():
        merchant.save()
        audit(actor, "merchant.update", merchant, fields=sorted(changes))
    return merchant


def create_hall(*, actor, merchant: Merchant, name: str, **fields) -> Hall:
    require_staff(actor, merchant.pk, MANAGERS)
    if not name or not name.strip():
        raise DomainError("invalid_input", "A hall needs a name.")
    hall = Hall(merchant=merchant, name=name.strip())
    _apply(hall, fields, HALL_FIELDS - {"name"})
    with transaction.atomic():
        hall.save()
        audit(actor, "hall.create", hall)
    return hall


def update_hall(*, actor, hall: Hall, **changes) -> Hall:
    require_staff(actor, hall.merchant_id, MANAGERS)
    _apply(hall, changes, HALL_FIELDS)
    with transaction.atomic():
        hall.save()
        audit(actor, "hall.update", hall, fields=sorted(changes))
    return hall


def _check_service(s: Service) -> None:
    if not s.name or not s.name.strip():
        raise DomainError("invalid_input", "A service needs a name.")
    if s.kind not in ServiceKind.values:
        raise DomainError("invalid_input", "Unknown service kind.")
    if s.cancel_policy not in CancelPolicy.values or s.deadline_rule not in DeadlineRule.values:
        raise DomainError("invalid_input", "Unknown cancel policy or deadline rule.")
    if not (1 <= s.duration_minutes <= 60 * 24 * 31) or not (1 <= s.step_minutes <= 1440):
        raise DomainError("invalid_input", "Duration or step out of range.")
    if not (0 <= s.base_price_fen <= 100_000_000_00):
        raise DomainError("invalid_input", "Price out of range.")
    if not (1 <= s.per_user_limit <= 1000) or not (1 <= s.max_places_per_booking <= 1000):
        raise DomainError("invalid_input", "Limits out of range.")


def create_service(*, actor, merchant: Merchant, name: str, kind: str, **fields) -> Service:
    require_staff(actor, merchant.pk, MANAGERS)
    service = Service(merchant=merchant, name=name, kind=kind)
    _apply(service, fields, SERVICE_FIELDS - {"name", "kind"})
    _check_service(service)
    with transaction.atomic():
        service.save()
        audit(actor, "service.create", service)
    return service


def update_service(*, actor, service: Service, **changes) -> Service:
    require_staff(actor, service.merchant_id, MANAGERS)
    if "kind" in changes and changes["kind"] != service.kind and service.bookings.exists():
        raise DomainError("invalid_input", "The kind of a booked service cannot change.")
    _apply(service, changes, SERVICE_FIELDS)
    _check_service(service)
    with transaction.atomic():
        service.save()
        audit(actor, "service.update", service, fields=sorted(changes))
    return service


def set_form_fields(*, actor, service: Service, fields: list[dict]) -> list[FormField]:
    """Replace the service's booking form. Answers already given keep their keys."""
    require_staff(actor, service.merchant_id, MANAGERS)
    if not isinstance(fields, list) or len(fields) > 50:
        raise DomainError("invalid_input", "A form has at most 50 fields.")
    rows, keys = [], set()
    for i, f in enumerate(fields):
        key, ftype = f.get("key"), f.get("type")
        if not key or not isinstance(key, str) or key in keys or len(key) > 40:
            raise DomainError("invalid_input", f"Field {i}: a unique key is needed.")
        if ftype not in FieldType.values:
            raise DomainError("invalid_input", f"Field {key}: unknown type.")
        choices = f.get("choices") or []
        if ftype == FieldType.CHOICE and (not isinstance(choices, list) or not choices):
            raise DomainError("invalid_input", f"Field {key}: a choice needs choices.")
        keys.add(key)
        rows.append(
            FormField(
                service=service,
                key=key,
                label=(f.get("label") or key)[:100],
                type=ftype,
                required=bool(f.get("required", True)),
                choices=choices,
                min_value=f.get("min_value"),
                max_value=f.get("max_value"),
                max_length=int(f.get("max_length") or 100),
                position=i,
            )
        )
    with transaction.atomic():
        FormField.objects.filter(service=service).delete()
        FormField.objects.bulk_create(rows)
        audit(actor, "service.form", service, fields=sorted(keys))
    return rows
