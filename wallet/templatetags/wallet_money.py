"""Template filters for amounts in minor units."""

from django import template

from wallet.money import format_minor

register = template.Library()


@register.filter
def minor(value: int | str | None) -> str:
    """1234 -> '12.34'."""
    return format_minor(int(value or 0))


@register.filter
def signed_minor(value: int | str | None) -> str:
    """1234 -> '+12.34', -1234 -> '-12.34'."""
    return format_minor(int(value or 0), signed=True)
