"""Server-rendered inline SVG charts (no third-party chart code): a line of cumulative
values and a bar per value around zero. Geometry only; the template draws it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from wallet.money import format_minor

WIDTH, HEIGHT, PAD_X, PAD_Y = 640, 220, 48, 18


@dataclass(frozen=True)
class Chart:
    width: int
    height: int
    path: str
    bars: list[dict]
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


def _y(value: float, low: float, high: float) -> float:
    return round(HEIGHT - PAD_Y - (value - low) / (high - low) * (HEIGHT - 2 * PAD_Y), 1)


def line_chart(values: list[float], *, label) -> Chart | None:
    """A polyline through `values` in order (e.g. cumulative profit after each bet)."""
    if not values:
        return None
    low, high = _scale(values)
    step = (WIDTH - 2 * PAD_X) / max(1, len(values) - 1)
    points = [(round(PAD_X + i * step, 1), _y(v, low, high)) for i, v in enumerate(values)]
    if len(points) == 1:
        points.append((WIDTH - PAD_X, points[0][1]))
    path = "M" + " L".join(f"{x},{y}" for x, y in points)
    return Chart(
        WIDTH, HEIGHT, path, [], _y(0, low, high), label(high), label(low), label(values[-1]), len(values)
    )


def bar_chart(values: list[float], *, label) -> Chart | None:
    """A bar per value, up for positive and down for negative (e.g. CLV per bet)."""
    if not values:
        return None
    low, high = _scale(values)
    zero = _y(0, low, high)
    slot = (WIDTH - 2 * PAD_X) / len(values)
    width = max(1.0, round(slot * 0.7, 1))
    bars = []
    for i, v in enumerate(values):
        y = _y(v, low, high)
        bars.append(
            {
                "x": round(PAD_X + i * slot + (slot - width) / 2, 1),
                "y": min(y, zero),
                "width": width,
                "height": max(0.5, round(abs(zero - y), 1)),
                "is_positive": v >= 0,
                "title": label(v),
            }
        )
    return Chart(WIDTH, HEIGHT, "", bars, zero, label(high), label(low), label(values[-1]), len(values))


def money_label(value: float) -> str:
    """A money axis label: the chart is given integer minor units, labelled exactly."""
    return format_minor(int(value))


def percent_label(value: float) -> str:
    return f"{value * 100:+.1f}%"


def as_float(value: Decimal | int) -> float:
    return float(value)
