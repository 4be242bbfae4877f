"""Validating a participant's answers against a service's booking form."""

from __future__ import annotations

import datetime as dt
import math
from typing import Any

from yuyue.accounts.phones import normalize_phone
from yuyue.core.errors import DomainError
from yuyue.core.idnumbers import valid_id_number

from .models import FieldType, FormField

# Numbers a form takes: finite, and within what the database and JSON carry exactly
_NUMBER_LIMIT = 1e15


def encodable(text: str) -> bool:
    """Whether the text can be stored and sent: no lone surrogate halves ("\\ud800")."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check(field: FormField, value: Any) -> tuple[Any, str | None]:
    """The cleaned value, or an error message key."""
    if field.type == FieldType.TEXT:
        if not isinstance(value, str):
            return None, "must be text"
        if not encodable(value):
            return None, "contains characters that are not text"
        value = value.strip()
        if len(value) > field.max_length:
            return None, f"at most {field.max_length} characters"
        return value, None
    if field.type == FieldType.NUMBER:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return None, "must be a number"
        if not math.isfinite(value) or abs(value) > _NUMBER_LIMIT:
            return None, "must be a finite number"
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
        if not isinstance(value, str):
            return None, "not one of the choices"
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
