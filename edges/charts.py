"""Line-movement charts as server-rendered inline SVG (no chart library)."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils import timezone

COLOURS = ["#4ade80", "#60a5fa", "#f472b6", "#facc15", "#a78bfa", "#fb923c", "#2dd4bf", "#f87171"]


@dataclass
class Chart:
    width: int
    height: int
    lines: list[dict]
    y_ticks: list[dict]
    x_labels: list[dict]
    empty: bool


def line_chart(
    series: dict[str, list[tuple]], *, width: int = 640, height: int = 200, pad: int = 36
) -> Chart:
    """`series`: name -> [(datetime, Decimal price)], drawn as step-free polylines."""
    points = [(t, float(p)) for values in series.values() for t, p in values]
    if not points:
        return Chart(width, height, [], [], [], True)
    t0 = min(t for t, _ in points).timestamp()
    t1 = max(t for t, _ in points).timestamp()
    low = min(p for _, p in points)
    high = max(p for _, p in points)
    if high - low < 1e-9:
        low, high = low - 0.05, high + 0.05
    span_t = max(t1 - t0, 1.0)

    def x(t) -> float:
        return round(pad + (t.timestamp() - t0) / span_t * (width - 2 * pad), 1)

    def y(p: float) -> float:
        return round(height - pad / 2 - (p - low) / (high - low) * (height - pad), 1)

    lines = []
    for index, (name, values) in enumerate(sorted(series.items())):
        if not values:
            continue
        coords = [(x(t), y(float(p))) for t, p in values]
        if len(coords) == 1:
            coords.append((width - pad, coords[0][1]))
        else:
            coords.append((width - pad, coords[-1][1]))  # the price holds until now
        lines.append(
            {
                "name": name,
                "colour": COLOURS[index % len(COLOURS)],
                "points": " ".join(f"{a},{b}" for a, b in coords),
                "last": f"{float(values[-1][1]):.3f}",
                "legend_y": 14 + 14 * index,
            }
        )
    ticks = [
        {"y": y(low + (high - low) * i / 4), "label": f"{low + (high - low) * i / 4:.3f}"} for i in range(5)
    ]
    first, last = min(t for t, _ in points), max(t for t, _ in points)
    # in the viewer's zone (activated per request by UserTimeZoneMiddleware)
    if timezone.is_aware(first):
        first, last = timezone.localtime(first), timezone.localtime(last)
    labels = [{"x": pad, "label": f"{first:%H:%M:%S}"}, {"x": width - pad, "label": f"{last:%H:%M:%S}"}]
    return Chart(width, height, lines, ticks, labels, False)
