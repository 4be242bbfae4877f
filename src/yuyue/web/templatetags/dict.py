from django import template

register = template.Library()


@register.filter
def get(mapping, key):
    """mapping[key], or None: a form's typed values and errors by field name."""
    try:
        return mapping.get(key)
    except AttributeError:
        return None
