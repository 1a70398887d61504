"""Server-rendered inline SVG charts (no third-party chart code): a line of cumulative
values and a bar per value around zero. Geometry only; the template draws it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from betthat.core.charts import Bar, Frame, bars_on_zero, y_position
from wallet.money import format_minor

WIDTH, HEIGHT, PAD_X, PAD_Y = 640, 220, 48, 18
FRAME = Frame(WIDTH, HEIGHT, PAD_X, PAD_Y)


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    path: str
    bars: list[Bar]
    zero_y: float
    top_label: str
    bottom_label: str
    last_label: str
    count: int


def _scale(values: list[float]) -> tuple[float, float]:
    low, high = min([*values, 0.0]), max([*values, 0.0])
    if high == low:
        high = low + 1.0
    return low, high


def line_chart(values: list[float], *, label: Callable[[float], str]) -> Chart | None:
    """A polyline through `values` in order (e.g. cumulative profit after each bet)."""
    if not values:
        return None
    low, high = _scale(values)
    step = (WIDTH - 2 * PAD_X) / max(1, len(values) - 1)
    points = [
        (round(PAD_X + i * step, 1), y_position(v, low=low, high=high, frame=FRAME))
        for i, v in enumerate(values)
    ]
    if len(points) == 1:
        points.append((WIDTH - PAD_X, points[0][1]))
    path = "M" + " L".join(f"{x},{y}" for x, y in points)
    zero = y_position(0, low=low, high=high, frame=FRAME)
    return Chart(WIDTH, HEIGHT, path, [], zero, label(high), label(low), label(values[-1]), len(values))


def bar_chart(values: list[float], *, label: Callable[[float], str]) -> Chart | None:
    """A bar per value, up for positive and down for negative (e.g. CLV per bet)."""
    if not values:
        return None
    low, high = _scale(values)
    zero, bars = bars_on_zero(values, [label(v) for v in values], low=low, high=high, frame=FRAME)
    return Chart(WIDTH, HEIGHT, "", bars, zero, label(high), label(low), label(values[-1]), len(values))


def money_label(value: float) -> str:
    """A money axis label: the chart is given integer minor units, labelled exactly."""
    return format_minor(int(value))


def percent_label(value: float) -> str:
    return f"{value * 100:+.1f}%"


def as_float(value: Decimal | int) -> float:
    return float(value)
