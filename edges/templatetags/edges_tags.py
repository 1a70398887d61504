from django import template

register = template.Library()


@register.filter
def pct(value, places=2):
    if value is None:
        return "\u2013"
    return f"{float(value) * 100:.{int(places)}f}%"


@register.filter
def american(value):
    if value is None:
        return "\u2013"
    value = int(value)
    return f"+{value}" if value > 0 else str(value)


@register.filter
def odds(value):
    if value is None:
        return "\u2013"
    return f"{float(value):.3f}"


@register.filter
def get_item(mapping, key):
    return mapping.get(key) if mapping else None
