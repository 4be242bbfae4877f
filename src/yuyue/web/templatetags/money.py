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
