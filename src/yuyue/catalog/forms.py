"""Validating a participant's answers against a service's booking form."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from yuyue.accounts.phones import normalize_phone
from yuyue.core.errors import DomainError

from .models import FieldType, FormField

_ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")


def valid_id_number(value: str) -> bool:
    """GB 11643-1999: 18 characters, a real birth date, and the ISO 7064 MOD 11-2 check digit."""
    value = value.upper()
    if not _ID_RE.match(value):
        return False
    try:
        birth = dt.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    if birth.year < 1900 or birth > dt.date.today():
        return False
    total = sum(int(c) * w for c, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    return _ID_CHECK[total % 11] == value[17]


def _check(field: FormField, value: Any) -> tuple[Any, str | None]:
    """The cleaned value, or an error message key."""
    if field.type == FieldType.TEXT:
        if not isinstance(value, str):
            return None, "must be text"
        value = value.strip()
        if len(value) > field.max_length:
            return None, f"at most {field.max_length} characters"
        return value, None
    if field.type == FieldType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None, "must be a number"
        if field.min_value is not None and value < field.min_value:
            return None, f"must be at least {field.min_value:g}"
        if field.max_value is not None and value > field.max_value:
            return None, f"must be at most {field.max_value:g}"
        return value, None
    if field.type == FieldType.PHONE:
        try:
            return normalize_phone(value if isinstance(value, str) else None), None
        except DomainError:
            return None, "not a valid mobile phone number"
    if field.type == FieldType.ID_NUMBER:
        if not isinstance(value, str) or not valid_id_number(value.strip()):
            return None, "not a valid resident ID number (GB 11643)"
        return value.strip().upper(), None
    if field.type == FieldType.CHOICE:
        if value not in (field.choices or []):
            return None, "not one of the choices"
        return value, None
    if field.type == FieldType.DATE:
        try:
            return dt.date.fromisoformat(value).isoformat(), None
        except (TypeError, ValueError):
            return None, "must be a date YYYY-MM-DD"
    return None, "unknown field type"


def clean_answers(fields: list[FormField], answers: Any, *, index: int = 0) -> dict[str, Any]:
    """Return the cleaned answers or raise DomainError('invalid_form') listing every problem."""
    if answers is None:
        answers = {}
    if not isinstance(answers, dict):
        raise DomainError(
            "invalid_form",
            errors=[{"participant": index, "field": None, "problem": "answers must be an object"}],
        )
    known = {f.key for f in fields}
    errors = [
        {"participant": index, "field": key, "problem": "unknown field"}
        for key in answers
        if key not in known
    ]
    cleaned: dict[str, Any] = {}
    for field in fields:
        value = answers.get(field.key)
        if value is None or value == "":
            if field.required:
                errors.append({"participant": index, "field": field.key, "problem": "required"})
            continue
        value, problem = _check(field, value)
        if problem:
            errors.append({"participant": index, "field": field.key, "problem": problem})
        else:
            cleaned[field.key] = value
    if errors:
        raise DomainError("invalid_form", errors=errors)
    return cleaned
