"""Bar charts for the dashboard, as server-side SVG geometry (the same look as the betting
statistics page's charts, without their float values: amounts stay integers in minor units
and only the drawing coordinates are fractional)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

WIDTH, HEIGHT, PAD_X, PAD_Y = 640, 200, 48, 16


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    is_positive: bool
    title: str


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
    span = high - low

    def y(value: int) -> float:
        return round(float(HEIGHT - PAD_Y - Fraction(value - low, span) * (HEIGHT - 2 * PAD_Y)), 1)

    zero = y(0)
    slot = Fraction(WIDTH - 2 * PAD_X, len(points))
    width = max(1.0, round(float(slot * Fraction(7, 10)), 1))
    bars = []
    for index, (day, value) in enumerate(points):
        top = y(value)
        bars.append(
            Bar(
                x=round(float(PAD_X + index * slot + (slot - Fraction(width)) / 2), 1),
                y=min(top, zero),
                width=width,
                height=max(0.5, round(abs(zero - top), 1)),
                is_positive=value >= 0,
                title=f"{day:%a %d %b}: {label(value)}",
            )
        )
    return BarChart(zero_y=zero, top_label=label(high), bottom_label=label(low), bars=bars)
