from django import template

register = template.Library()


@register.filter
def duration(minutes) -> str:
    """Minutes as a customer reads them: 45 → "45 min", 120 → "2 h", 90 → "1 h 30 min"."""
    try:
        minutes = int(minutes)
    except (TypeError, ValueError):
        return ""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} min"
    return f"{hours} h" + (f" {rest} min" if rest else "")
