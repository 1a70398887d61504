"""The balance-over-time chart as inline SVG, rendered on the server (no chart library)."""

from __future__ import annotations

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from wallet.money import format_minor
from wallet.selectors import BalancePoint

WIDTH, HEIGHT = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 64, 12, 14, 26


def balance_chart_svg(points: list[BalancePoint], *, currency: str) -> SafeString:
    """A line with a soft area under it, min/max gridlines and the first/last dates."""
    if not points:
        return format_html('<svg class="chart" viewBox="0 0 {} {}" role="img"></svg>', WIDTH, HEIGHT)
    values = [p.total_minor for p in points]
    low, high = min(0, min(values)), max(values)
    span = (high - low) or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(points) - 1, 1)

    def xy(index: int, value: int) -> tuple[float, float]:
        return round(LEFT + index * step, 1), round(TOP + plot_h - (value - low) / span * plot_h, 1)

    coords = [xy(i, v) for i, v in enumerate(values)]
    line = " ".join(f"{x},{y}" for x, y in coords)
    base_y = round(TOP + plot_h - (0 - low) / span * plot_h, 1)
    area = f"{coords[0][0]},{base_y} {line} {coords[-1][0]},{base_y}"
    grid = format_html_join(
        "",
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#2a3846" stroke-dasharray="3 3"/>'
        '<text x="{}" y="{}" text-anchor="end">{}</text>',
        (
            (
                LEFT,
                xy(0, value)[1],
                WIDTH - RIGHT,
                xy(0, value)[1],
                LEFT - 6,
                xy(0, value)[1] + 4,
                format_minor(value),
            )
            for value in sorted({low, high})
        ),
    )
    last_x, last_y = coords[-1]
    return format_html(
        '<svg class="chart wallet-chart" viewBox="0 0 {w} {h}" role="img" aria-label="{label}" data-testid="balance-chart">'
        "<title>{label}</title>{grid}"
        '<polygon points="{area}" fill="rgba(63,185,80,.15)"/>'
        '<polyline points="{line}" fill="none" stroke="#3fb950" stroke-width="2" data-points="{count}"/>'
        '<circle cx="{lx}" cy="{ly}" r="3.5" fill="#3fb950"/>'
        '<text x="{x0}" y="{ty}">{first}</text><text x="{x1}" y="{ty}" text-anchor="end">{last}</text>'
        "</svg>",
        w=WIDTH,
        h=HEIGHT,
        label=f"Balance over {len(points)} days, now {format_minor(values[-1])} {currency}",
        grid=grid,
        area=area,
        line=line,
        count=len(points),
        lx=last_x,
        ly=last_y,
        x0=LEFT,
        x1=WIDTH - RIGHT,
        ty=HEIGHT - 6,
        first=points[0].day.strftime("%b %d"),
        last=points[-1].day.strftime("%b %d"),
    )
