"""The geometry of the site's server-rendered SVG charts (no third-party chart code): where
a value sits on the vertical axis, and a bar per value standing on zero. Exact arithmetic
(`Fraction`); only the drawing coordinates come out as floats, rounded to 0.1 px. The
betting statistics page (`betting.charts`) and the ops dashboard (`betthat.ops.charts`) draw
with it; the templates draw the shapes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

Number = int | float | Decimal | Fraction


@dataclass(frozen=True)
class Frame:
    """The drawing area: the chart's size and the padding around the plot."""

    width: int
    height: int
    pad_x: int
    pad_y: int


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    is_positive: bool
    title: str


def y_position(value: Number, *, low: Number, high: Number, frame: Frame) -> float:
    """The y coordinate of `value` on an axis from `low` (bottom) to `high` (top); high > low."""
    share = (Fraction(value) - Fraction(low)) / (Fraction(high) - Fraction(low))
    return round(float(frame.height - frame.pad_y - share * (frame.height - 2 * frame.pad_y)), 1)


def bars_on_zero(
    values: Sequence[Number], titles: Sequence[str], *, low: Number, high: Number, frame: Frame
) -> tuple[float, list[Bar]]:
    """(the zero line's y, a bar per value): up from zero for a positive value, down for a
    negative one, a 0.5 px hairline for zero; each bar is 70% of its slot, centred."""
    zero = y_position(0, low=low, high=high, frame=frame)
    slot = Fraction(frame.width - 2 * frame.pad_x, len(values))
    width = max(1.0, round(float(slot * Fraction(7, 10)), 1))
    bars = []
    for index, (value, title) in enumerate(zip(values, titles, strict=True)):
        top = y_position(value, low=low, high=high, frame=frame)
        bars.append(
            Bar(
                x=round(float(frame.pad_x + index * slot + (slot - Fraction(width)) / 2), 1),
                y=min(top, zero),
                width=width,
                height=max(0.5, round(abs(zero - top), 1)),
                is_positive=value >= 0,
                title=title,
            )
        )
    return zero, bars
