from django import template

register = template.Library()


@register.filter
def fen(value) -> str:
    """Integer fen as yuan: 12000 → ¥120.00. Exact: no floats."""
    try:
        value = int(value)
    except (TypeError, ValueError):
        return ""
    sign = "-" if value < 0 else ""
    yuan, cents = divmod(abs(value), 100)
    return f"{sign}¥{yuan:,}.{cents:02d}"


@register.filter
def yuan(value) -> str:
    """Fen as the yuan a form field shows: 12345 → "123.45", 1200 → "12" (no sign, no ¥)."""
    try:
        fen = int(value)
    except (TypeError, ValueError):
        return ""
    whole, part = divmod(fen, 100)
    return f"{whole}" if not part else f"{whole}.{part:02d}"
