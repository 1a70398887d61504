"""The one odds conversion (betthat.core.odds): one rounding rule, used by the quote, the bet,
the templates, the API and the browser (issue 20, item 9)."""

from __future__ import annotations

import math
from decimal import Decimal
from fractions import Fraction

import pytest

from betthat.core import formatting, odds
from betting.services import placement
from edges import pricing
from edges.feeds import odds_api


def reference_american(price: Decimal) -> int:
    """The rule written independently in exact rationals: nearest integer, half away from zero."""
    d = Fraction(price)
    exact = (d - 1) * 100 if d >= 2 else 100 / (d - 1)
    rounded = math.floor(exact + Fraction(1, 2))
    return rounded if d >= 2 else -rounded


def grid() -> list[Decimal]:
    """Every 0.0001 from 1.0001 to 20, every 0.001 to 100, every 0.01 to 1000 (360,000 prices),
    plus the boundaries and the ties either side of them."""
    step4, step3, step2 = Decimal("0.0001"), Decimal("0.001"), Decimal("0.01")
    prices = [Decimal(n) * step4 for n in range(10_001, 200_001)]
    prices += [Decimal(n) * step3 for n in range(20_001, 100_001)]
    prices += [Decimal(n) * step2 for n in range(10_001, 100_001)]
    prices += [
        Decimal(p) for p in ("1.000001", "1.999999", "2", "2.000001", "2.125", "2.115", "1.8", "1.9091")
    ]
    return prices


def test_the_rule_on_the_documented_values():
    assert odds.decimal_to_american(Decimal("2.125")) == 113  # the bet said +112 before
    assert odds.decimal_to_american(Decimal("2.115")) == 112  # 111.5: away from zero
    assert odds.decimal_to_american(Decimal("1.9091")) == -110
    assert odds.decimal_to_american(Decimal("2.5")) == 150
    assert odds.decimal_to_american(Decimal("2")) == 100
    assert odds.decimal_to_american(Decimal("1.5")) == -200
    assert odds.american_to_decimal(-110) == Decimal(1) + Decimal(100) / Decimal(110)
    assert odds.quantize_odds(odds.american_to_decimal(-110)) == Decimal("1.909091")
    assert odds.american_to_decimal("+150") == Decimal("2.5")


def test_every_layer_uses_the_one_function():
    assert pricing.decimal_to_american is odds.decimal_to_american
    assert pricing.american_to_decimal is odds.american_to_decimal
    assert pricing.quantize_odds is odds.quantize_odds
    assert formatting.decimal_to_american is odds.decimal_to_american
    assert placement.decimal_to_american is odds.decimal_to_american


def test_every_price_on_the_grid_converts_by_the_rule_on_every_path():
    disagreements = []
    for price in grid():
        expected = reference_american(price)
        # the feed paths that store a quote's integer: The Odds API in decimal format, and the
        # file / auto-detecting parser (decimal below 100 only: above, a number is American)
        fed = odds_api._price(str(price), "decimal")[1]
        parsed = pricing.parse_price(str(price))[1] if price < 100 else expected
        shown = formatting.format_odds(price, "american")  # templates when no integer is given
        got = (odds.decimal_to_american(price), fed, parsed, shown)
        if got != (expected, expected, expected, f"{expected:+d}"):
            disagreements.append((price, expected, got))
    assert disagreements == []


def test_every_american_price_round_trips_through_its_stored_decimal():
    failures = [
        american
        for american in [*range(100, 10_001), *range(-10_000, -100)]
        if odds.decimal_to_american(odds.quantize_odds(odds.american_to_decimal(american))) != american
    ]
    assert failures == []


@pytest.mark.parametrize("bad", ["1", "0.5", "abc", "NaN", "Infinity", True])
def test_refuses_prices_at_or_below_one_and_nonsense(bad):
    with pytest.raises(odds.OddsError):
        odds.decimal_to_american(bad)


@pytest.mark.parametrize("bad", [50, -99, 0, "150.5", "x"])
def test_refuses_american_inside_the_gap(bad):
    with pytest.raises(odds.OddsError):
        odds.american_to_decimal(bad)


def test_a_quote_and_the_bet_taken_at_it_show_the_same_american_price(db, user, settings):
    from tests.betting.factories import make_game, set_price
    from tests.betting.helpers import leg, place
    from tests.wallet.factories import fund_user

    settings.OUTBOX_NUDGE = False
    fund_user(user, 100_000)
    game = make_game()
    quote = set_price(game.o("home_ml"), "draftkings", pricing.parse_price("2.125")[0])
    assert quote.price_american == 113
    bet = place(user, leg(game.o("home_ml")), stake=1000)
    bet.refresh_from_db()
    assert (bet.odds_decimal, bet.odds_american) == (Decimal("2.125"), 113)


def test_the_data_migration_fixes_bets_stored_with_the_old_rounding(db, user, settings):
    import importlib

    from django.apps import apps

    from betting.models import Bet
    from tests.betting.factories import make_game, set_price
    from tests.betting.helpers import leg, place
    from tests.wallet.factories import fund_user

    settings.OUTBOX_NUDGE = False
    fund_user(user, 100_000)
    game = make_game()
    set_price(game.o("home_ml"), "draftkings", "2.125")
    set_price(game.o("away_ml"), "draftkings", "1.8")
    tie = place(user, leg(game.o("home_ml")), stake=1000)
    plain = place(user, leg(game.o("away_ml")), stake=1000)
    Bet.objects.filter(pk=tie.pk).update(odds_american=112)  # as the old placement stored it
    migration = importlib.import_module("betting.migrations.0005_bet_odds_american_one_rounding")
    migration.recompute(apps, None)
    assert dict(Bet.objects.filter(pk__in=[tie.pk, plain.pk]).values_list("pk", "odds_american")) == {
        tie.pk: 113,
        plain.pk: -125,
    }


def test_the_browser_formatter_converts_every_grid_price_by_the_same_rule(browser_page, live_server):
    page = browser_page
    page.goto("/")
    # the grid is built in the page as strings, as the API and the sockets send prices
    shown = page.evaluate(
        """() => {
            const out = [];
            const walk = (from, to, places) => {
                const scale = 10 ** places;
                for (let n = from; n <= to; n++) {
                    const price = Math.floor(n / scale) + "." + String(n % scale).padStart(places, "0");
                    out.push(BT.fmt.americanFrom(price));
                }
            };
            walk(10001, 200000, 4); walk(20001, 100000, 3); walk(10001, 100000, 2);
            return out;
        }"""
    )
    assert shown == [reference_american(price) for price in grid()[: len(shown)]]
    assert len(shown) == 360_000
    page.evaluate("() => { document.documentElement.dataset.oddsFormat = 'american'; }")
    assert page.evaluate("() => [BT.fmt.odds('2.125'), BT.fmt.odds('2.115'), BT.fmt.odds(1.9091)]") == [
        "+113",
        "+112",
        "-110",
    ]
