"""Bar charts for the dashboard, as server-side SVG geometry (the same look as the betting
statistics page's charts, without their float values: amounts stay integers in minor units
and only the drawing coordinates are fractional)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date

from betthat.core.charts import Bar, Frame, bars_on_zero

WIDTH, HEIGHT, PAD_X, PAD_Y = 640, 200, 48, 16
FRAME = Frame(WIDTH, HEIGHT, PAD_X, PAD_Y)


@dataclass(frozen=True)
class BarChart:
    zero_y: float
    top_label: str
    bottom_label: str
    bars: list[Bar] = field(default_factory=list)
    width: int = WIDTH
    height: int = HEIGHT


def bar_chart(points: Sequence[tuple[date, int]], *, label: Callable[[int], str]) -> BarChart | None:
    """A bar per day, up from zero for a positive value and down for a negative one; None
    when every value is zero (the template then says there is nothing to draw)."""
    values = [value for _day, value in points]
    if not any(values):
        return None
    low, high = min(0, *values), max(0, *values)
    titles = [f"{day:%a %d %b}: {label(value)}" for day, value in points]
    zero, bars = bars_on_zero(values, titles, low=low, high=high, frame=FRAME)
    return BarChart(zero_y=zero, top_label=label(high), bottom_label=label(low), bars=bars)
