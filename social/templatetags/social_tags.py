from decimal import Decimal

from django import template
from django.utils.dateparse import parse_datetime

register = template.Library()
DASH = "\u2013"


@register.filter
def pct(value, places=1):
    """A fraction as a percentage: 0.1234 -> "12.3%"."""
    if value is None or value == "":
        return DASH
    return f"{Decimal(value) * 100:.{int(places)}f}%"


@register.filter
def signed_pct(value, places=1):
    if value is None or value == "":
        return DASH
    return f"{Decimal(value) * 100:+.{int(places)}f}%"


@register.filter
def units(value):
    if value is None or value == "":
        return DASH
    return f"{Decimal(value):+.2f}u"


@register.filter
def iso_datetime(value):
    """An ISO 8601 string (as in a feed item) back to a datetime, for the date filter."""
    return parse_datetime(value) if isinstance(value, str) else value


@register.filter
def metric_value(value, metric):
    if metric == "clv":
        return signed_pct(value, 2)
    if metric == "roi":
        return signed_pct(value, 1)
    return pct(value, 1)


@register.filter
def label(value):
    return str(value or "").replace("_", " ")
