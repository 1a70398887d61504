from datetime import date

from betthat.ops.charts import HEIGHT, PAD_Y, bar_chart


def test_bars_stand_on_zero_in_proportion():
    days = [date(2026, 11, 28), date(2026, 11, 29), date(2026, 11, 30)]
    chart = bar_chart(list(zip(days, [100, -50, 0], strict=True)), label=lambda v: f"{v:+d}")
    usable = HEIGHT - 2 * PAD_Y  # 168 px for a span of 150 (from -50 to +100)
    assert chart.zero_y == HEIGHT - PAD_Y - usable * 50 / 150 == 128
    up, down, flat = chart.bars
    assert (up.y, up.height, up.is_positive) == (PAD_Y, 112, True)
    assert (down.y, down.height, down.is_positive) == (128, 56, False)
    assert flat.height == 0.5  # a hairline marks the day
    assert up.x < down.x < flat.x
    assert (chart.top_label, chart.bottom_label) == ("+100", "-50")
    assert up.title == "Sat 28 Nov: +100"


def test_nothing_to_draw():
    assert bar_chart([(date(2026, 11, 30), 0)], label=str) is None
    assert bar_chart([], label=str) is None
