from decimal import Decimal

from django import template

from wallet.money import format_minor

register = template.Library()
DASH = "\u2013"  # shown for a missing value


@register.filter
def minor(value):
    """Integer minor units as an amount: 123456 -> "1,234.56"."""
    if value is None or value == "":
        return DASH
    return format_minor(int(value))


@register.filter
def ratio_pct(value, places=1):
    if value is None:
        return DASH
    return f"{Decimal(value) * 100:.{int(places)}f}%"


@register.filter
def signed_pct(value, places=1):
    if value is None:
        return DASH
    return f"{Decimal(value) * 100:+.{int(places)}f}%"


@register.filter
def american_odds(value):
    if value is None:
        return DASH
    value = int(value)
    return f"+{value}" if value > 0 else str(value)


@register.filter
def odds3(value):
    if value is None:
        return DASH
    return f"{Decimal(value):.3f}"


@register.filter
def label(value):
    return str(value or "").replace("_", " ")
