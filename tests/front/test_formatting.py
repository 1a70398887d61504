"""The one formatting module: odds both ways, money, percents, dates in a zone, names."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from types import SimpleNamespace

import pytest

from betthat.core import formatting as f


@pytest.mark.parametrize(
    ("decimal", "american"),
    [("2.50", 150), ("1.909091", -110), ("2.00", 100), ("1.50", -200), ("3.10", 210), ("1.01", -10000)],
)
def test_decimal_and_american_convert_both_ways(decimal, american):
    assert f.decimal_to_american(decimal) == american
    assert abs(f.american_to_decimal(american) - Decimal(decimal)) < Decimal("0.00001")
    assert f.decimal_to_american(f.american_to_decimal(american)) == american


@pytest.mark.parametrize(
    ("decimal", "fraction"),
    [
        ("2.50", Fraction(3, 2)),
        ("1.909091", Fraction(10, 11)),
        ("2.00", Fraction(1)),
        ("1.25", Fraction(1, 4)),
        ("11.0", Fraction(10)),
        ("1.952381", Fraction(20, 21)),
    ],
)
def test_decimal_and_fractional_convert_both_ways(decimal, fraction):
    assert f.decimal_to_fractional(decimal) == fraction
    text = f"{fraction.numerator}/{fraction.denominator}"
    assert abs(f.fractional_to_decimal(text) - Decimal(decimal)) < Decimal("0.00001")


def test_fractional_reads_evens_and_refuses_nonsense():
    assert f.fractional_to_decimal("evens") == Decimal("2.000000")
    for bad in ["", "3", "3/0", "0/5", "a/b", "-1/2"]:
        with pytest.raises(ValueError):
            f.fractional_to_decimal(bad)


@pytest.mark.parametrize(
    ("fmt", "expected"),
    [("american", "+150"), ("decimal", "2.500"), ("fractional", "3/2"), ("nonsense", "+150")],
)
def test_format_odds_follows_the_chosen_format(fmt, expected):
    assert f.format_odds("2.5", fmt) == expected


def test_format_odds_prefers_the_books_american_price_and_dashes_missing_values():
    assert f.format_odds("1.909", "american", american=-110) == "-110"
    assert f.format_odds("1.909", "american") == "-110"
    assert f.format_odds("12.5", "decimal") == "12.50"
    assert f.format_odds(None, "decimal") == f.DASH
    assert f.format_odds("1.00", "american") == f.DASH
    assert f.format_odds("abc", "fractional") == f.DASH


@pytest.mark.parametrize(
    ("text", "fmt", "decimal"),
    [
        ("+150", "american", "2.5"),
        ("-110", "american", "1.909091"),
        ("2.5", "decimal", "2.5"),
        ("3/2", "fractional", "2.5"),
    ],
)
def test_parse_odds_reads_every_format(text, fmt, decimal):
    assert f.parse_odds(text, fmt) == Decimal(decimal)


@pytest.mark.parametrize(
    ("text", "fmt"), [("+50", "american"), ("1.0", "decimal"), ("x", "american"), ("2", "fractional")]
)
def test_parse_odds_refuses_what_is_not_a_price(text, fmt):
    with pytest.raises(ValueError):
        f.parse_odds(text, fmt)


def test_money_is_written_one_way_with_its_currency():
    assert f.format_money(123456, "USD") == "1,234.56 USD"
    assert f.format_money(-2241, "EUR") == "-22.41 EUR"
    assert f.format_money(0, "GBP") == "0.00 GBP"
    assert f.format_money(3394, "USD", signed=True) == "+33.94 USD"
    assert f.format_money(100000000, "USD") == "1,000,000.00 USD"
    assert f.format_money(None) == f.DASH
    assert f.format_amount(100000, "USD") == "1,000.00"
    assert f.format_decimal_amount(Decimal("1234.5")) == "1,234.50"


def test_percents_round_half_up_and_never_show_minus_zero():
    assert f.format_percent(0.05234, 1) == "5.2%"
    assert f.format_percent(Decimal("0.00125"), 2) == "0.13%"
    assert f.format_percent(0.1, 1, signed=True) == "+10.0%"
    assert f.format_percent(-0.00001, 1) == "0.0%"
    assert f.format_percent(None) == f.DASH
    assert f.percent_input_value(0.025) == "2.5"
    assert f.percent_input_value(None) == ""


def test_dates_are_shown_in_the_viewers_zone():
    moment = datetime(2026, 11, 30, 19, 5, tzinfo=UTC)
    assert f.format_datetime(moment, "America/New_York") == "30 Nov 2026, 14:05 EST"
    assert f.format_datetime(moment, "Europe/Berlin") == "30 Nov 2026, 20:05 CET"
    assert f.format_datetime(moment, "Asia/Kolkata", with_zone=False) == "1 Dec 2026, 00:35"
    # a bad zone name falls back to UTC rather than failing the page
    assert f.format_datetime(moment, "Mars/Olympus") == "30 Nov 2026, 19:05 UTC"
    summer = datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert f.format_datetime(summer, "America/New_York") == "1 Jul 2026, 08:00 EDT"


def test_names_come_from_one_registry():
    assert f.market_name("h2h") == "Moneyline"
    assert f.market_name("player_pass_yds") == "Player passing yards"
    assert f.market_name("player_shots_on_goal") == "Player shots on goal"
    assert f.book_name("betrivers") == "BetRivers"
    assert f.book_name("somebook", "Some Book") == "Some Book"
    assert f.state_name("succeeded") == f.state_name("completed") == "Completed"
    assert f.book_colour("draftkings") == f.book_colour("draftkings")
    assert f.market_group("alternate_spreads") == (1, "Alternate lines")
    assert f.market_group("player_points", "J. Doe") == (3, "Props · J. Doe")


def test_the_viewers_preferences_are_read_safely():
    user = SimpleNamespace(
        is_authenticated=True, preferences={"ui": {"odds_format": "fractional"}}, timezone="Europe/London"
    )
    assert f.odds_format_for(user) == "fractional"
    assert f.timezone_name_for(user) == "Europe/London"
    broken = SimpleNamespace(is_authenticated=True, preferences="not a mapping", timezone="nowhere")
    assert f.odds_format_for(broken) == "american"
    assert f.timezone_name_for(broken) == "UTC"
    assert f.odds_format_for(SimpleNamespace(is_authenticated=False)) == "american"
