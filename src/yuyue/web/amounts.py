"""Amounts typed into pages: yuan as whole fen, whole numbers."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


def whole(raw) -> int:
    try:
        return int(raw or 0)
    except ValueError:
        return 0


def yuan_to_fen(raw) -> int | None:
    """An amount typed in yuan, as whole fen; None if it is not a positive amount."""
    try:
        value = Decimal((raw or "").strip().replace(",", ""))
    except InvalidOperation:
        return None
    if not value.is_finite() or value <= 0 or value != value.quantize(Decimal("0.01")):
        return None
    return int(value * 100)
