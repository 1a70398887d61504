"""Filters for the operations dashboard."""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter
def duration(seconds: float | int | None) -> str:
    """Seconds as a short human duration: 42 s, 3 m 05 s, 2 h 04 m, 3 d 02 h; '—' for none."""
    if seconds is None:
        return "—"
    total = max(0, round(float(seconds)))
    if total < 60:
        return f"{total} s"
    minutes, secs = divmod(total, 60)
    if minutes < 60:
        return f"{minutes} m {secs:02d} s"
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return f"{hours} h {minutes:02d} m"
    days, hours = divmod(hours, 24)
    return f"{days} d {hours:02d} h"


@register.filter
def percent(value: float | None, places: int = 1) -> str:
    """0.0412 -> '4.1%'."""
    if value is None:
        return "—"
    return f"{float(value) * 100:.{int(places)}f}%"
