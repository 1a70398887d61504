"""The pricing engine against hand-computed values and properties."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from edges import pricing


@pytest.mark.parametrize(
    ("american", "decimal"),
    [
        (150, Decimal("2.5")),
        (100, Decimal("2")),
        (-200, Decimal("1.5")),
        (-110, Decimal(1) + Decimal(100) / 110),
        (250, Decimal("3.5")),
    ],
)
def test_american_to_decimal_exact(american, decimal):
    assert pricing.american_to_decimal(american) == decimal
    assert pricing.decimal_to_american(pricing.american_to_decimal(american)) == american


@pytest.mark.parametrize(
    ("decimal", "american"), [("2.5", 150), ("1.9091", -110), ("1.5", -200), ("2.0", 100), ("1.333333", -300)]
)
def test_decimal_to_american(decimal, american):
    assert pricing.decimal_to_american(Decimal(decimal)) == american


@pytest.mark.parametrize("bad", [-99, 0, "1.5x", None, True, 1.0, 0.5, float("nan")])
def test_parse_price_refuses_nonsense(bad):
    with pytest.raises(pricing.PricingError):
        pricing.parse_price(bad)


def test_parse_price_reads_both_formats():
    assert pricing.parse_price(-110) == (Decimal("1.909091"), -110)
    assert pricing.parse_price(2.5) == (Decimal("2.500000"), 150)
    assert pricing.parse_price("1.80") == (Decimal("1.800000"), -125)


def test_devig_hand_computed():
    # 1.8 / 2.1: q = 0.555556, 0.476190, sum 1.031746
    q = [1 / 1.8, 1 / 2.1]
    s = sum(q)
    mult = pricing.devig([1.8, 2.1], "multiplicative")
    assert mult == pytest.approx([q[0] / s, q[1] / s], abs=1e-12)
    add = pricing.devig([1.8, 2.1], "additive")
    assert add == pytest.approx([q[0] - (s - 1) / 2, q[1] - (s - 1) / 2], abs=1e-12)
    k = pricing.power_exponent([1.8, 2.1])
    assert q[0] ** k + q[1] ** k == pytest.approx(1, abs=1e-12)
    assert pricing.devig([1.8, 2.1], "power") == pytest.approx([q[0] ** k, q[1] ** k], abs=1e-9)
    # Shin with two outcomes equals the additive method (a known identity)
    assert pricing.devig([1.8, 2.1], "shin") == pytest.approx(add, abs=1e-9)
    worst = pricing.devig([1.8, 2.1], "worst_case")
    assert worst == [min(c) for c in zip(mult, add, pricing.devig([1.8, 2.1], "power"), add, strict=True)]


def test_devig_three_way_shin_parameter():
    prices = [2.3, 3.4, 3.2]
    z = pricing.shin_z(prices)
    q = [1 / p for p in prices]
    s = sum(q)
    p = [(math.sqrt(z * z + 4 * (1 - z) * x * x / s) - z) / (2 * (1 - z)) for x in q]
    assert sum(p) == pytest.approx(1, abs=1e-9)
    assert 0 < z < 0.2
    assert pricing.devig(prices, "shin") == pytest.approx(p, abs=1e-9)


def test_edge_metrics_hand_computed():
    p, d = 0.55, 2.0
    assert pricing.edge_percentage(p, d) == pytest.approx(0.05)
    assert pricing.expected_value_per_dollar(p, d) == pytest.approx(0.10)
    assert pricing.kelly_fraction(p, d) == pytest.approx(0.10)
    assert pricing.kelly_fraction(0.4, 2.0) == 0.0
    assert pricing.fair_odds(0.4) == pytest.approx(2.5)


def test_recommended_stake():
    # $1,000 available, Kelly 0.1546, medium (half Kelly) -> 7.73%, under max 25% -> $77.30
    assert (
        pricing.recommended_stake_minor(
            available_minor=100_000,
            kelly_fraction=0.1546,
            risk_tolerance="medium",
            max_kelly_fraction=Decimal("0.25"),
        )
        == 7730
    )
    # capped by max_kelly_fraction, then by max bet size
    assert (
        pricing.recommended_stake_minor(
            available_minor=100_000,
            kelly_fraction=0.9,
            risk_tolerance="high",
            max_kelly_fraction=Decimal("0.25"),
        )
        == 25_000
    )
    assert (
        pricing.recommended_stake_minor(
            available_minor=100_000,
            kelly_fraction=0.9,
            risk_tolerance="high",
            max_kelly_fraction=1,
            cap_minor=5_000,
        )
        == 5_000
    )
    assert (
        pricing.recommended_stake_minor(
            available_minor=0, kelly_fraction=0.5, risk_tolerance="low", max_kelly_fraction=1
        )
        == 0
    )


def test_arbitrage_split_hand_computed():
    # 2.10 / 2.05: 1/2.1 + 1/2.05 = 0.963995; stakes 100 * 0.476190/0.963995 = 49.40, 50.60
    split = pricing.arbitrage_stakes(10_000, [Decimal("2.10"), Decimal("2.05")])
    assert split.stakes_minor == [4940, 5060]
    assert sum(split.stakes_minor) == 10_000
    assert split.payouts_minor == [10374, 10373]
    assert split.guaranteed_profit_minor == 373
    assert pricing.arbitrage_margin([2.10, 2.05]) == pytest.approx(1 - 1 / 2.1 - 1 / 2.05)


def test_middle_window():
    assert pricing.middle_window("totals", 47.5, 48.5) == (47.5, 48.5)
    assert pricing.middle_window("totals", 48.5, 47.5) is None
    # home +4.5 and away -3.5: the home team loses by 4 -> both win
    assert pricing.middle_window("spreads", 4.5, -3.5) == (-4.5, -3.5)
    assert pricing.middle_window("spreads", -3.5, 3.5) is None


prices = st.floats(min_value=1.01, max_value=50, allow_nan=False)


@given(st.lists(prices, min_size=2, max_size=8))
def test_fair_probabilities_sum_to_one(ps):
    for method in ("multiplicative", "additive", "power", "shin"):
        fair = pricing.devig(ps, method)
        assert sum(fair) == pytest.approx(1, abs=1e-9)
        assert all(0 < p < 1 for p in fair)
    worst = pricing.devig(ps, "worst_case")
    assert sum(worst) <= 1 + 1e-9


@given(st.lists(prices, min_size=2, max_size=8))
def test_power_and_shin_parameters_in_range(ps):
    q = sum(1 / p for p in ps)
    k = pricing.power_exponent(ps)
    z = pricing.shin_z(ps)
    assert 0 <= z < 1
    if q > 1:
        assert k >= 1 - 1e-9
    else:
        assert k <= 1 + 1e-9
        assert z == 0


american = st.one_of(
    st.integers(min_value=100, max_value=100_000), st.integers(min_value=-100_000, max_value=-101)
)  # -100 is +100


@given(american)
def test_american_round_trips_exactly(a):
    assert pricing.decimal_to_american(pricing.american_to_decimal(a)) == a


@given(st.one_of(st.integers(min_value=100, max_value=5000), st.integers(min_value=-5000, max_value=-101)))
def test_stored_six_places_round_trip(a):
    assert pricing.parse_price(a)[1] == a
    assert pricing.decimal_to_american(pricing.quantize_odds(pricing.american_to_decimal(a))) == a


@given(
    st.integers(min_value=100, max_value=10_000_000),
    st.lists(st.decimals(min_value="1.05", max_value="20", places=3), min_size=2, max_size=4),
)
def test_arbitrage_split_adds_up_and_keeps_guarantee(total, ds):
    split = pricing.arbitrage_stakes(total, ds)
    assert sum(split.stakes_minor) == total
    assert all(s >= 0 for s in split.stakes_minor)
    margin = pricing.arbitrage_margin(ds)
    # when the margin covers the rounding (a cent per leg at the largest price), no result loses
    if margin * total > float(max(ds)) * len(ds) + 1:
        assert split.guaranteed_profit_minor >= 0


def test_best_price_of_an_outcome_is_the_highest_and_on_a_tie_the_older_quote():
    from datetime import UTC, datetime, timedelta

    from edges import finder

    at = datetime(2030, 1, 1, tzinfo=UTC)
    books = {i: finder.BookInfo(i, f"book{i}", f"Book {i}", i == 1, 60) for i in range(1, 5)}
    market = finder.MarketInfo(7, 1, "h2h", "", "", None)

    def row(book, name, price, seconds):
        return finder.QuoteRow(
            book * 10 + len(name),
            7,
            name,
            None,
            book,
            Decimal(price),
            100,
            at + timedelta(seconds=seconds),
            1,
        )

    rows = [
        row(1, "Home", "2.00", 5),
        row(2, "Home", "2.00", 2),  # the same price, posted earlier: it has stood longer
        row(3, "Home", "2.00", 2),  # as old as book 2's: the first one seen stays
        row(4, "Home", "1.90", 0),
        row(1, "Away", "1.80", 0),
        row(2, "Away", "1.85", 9),  # higher, however new
    ]
    view = finder._market_view(market, rows, books)
    assert view is not None
    assert (view.best["Home"].book_id, view.best["Away"].book_id) == (2, 2)
    assert finder._market_view(market, list(reversed(rows)), books).best["Home"].book_id == 3
