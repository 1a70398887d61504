"""Market data and bets for the betting tests: one NFL game with a moneyline, a spread, a
total and a player prop, priced at a sharp book and two retail books."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from betting.models import SameGameQuote
from edges import cache
from edges.models import Event, Market, OddsQuote, Outcome, Sport, Sportsbook
from edges.pricing import decimal_to_american
from edges.selectors import market_snapshot_build

_counter = {"n": 0}


def _next() -> int:
    _counter["n"] += 1
    return _counter["n"]


def books() -> dict[str, Sportsbook]:
    result = {}
    for key, title, sharp in (
        ("pinnacle", "Pinnacle", True),
        ("draftkings", "DraftKings", False),
        ("fanduel", "FanDuel", False),
    ):
        result[key], _ = Sportsbook.objects.get_or_create(
            key=key, defaults={"title": title, "is_sharp": sharp}
        )
    return result


def _quote_fields(outcome: Outcome, price: Decimal, now, *, suspended: bool = False) -> dict:
    return {
        "price_decimal": price,
        "price_american": decimal_to_american(price),
        "point": outcome.point,
        "last_update": now,
        "version": int(now.timestamp() * 1_000_000) + _next(),
        "is_suspended": suspended,
    }


def _refresh_snapshot(market_id: int) -> None:
    cache.snapshot_set(market_id, market_snapshot_build(market_id=market_id))


def set_price(outcome: Outcome, book: str, price: str | Decimal, *, suspended: bool = False) -> OddsQuote:
    """Write a quote (a newer version) and refresh the market's hot-cache snapshot."""
    quote, _ = OddsQuote.objects.update_or_create(
        outcome=outcome,
        sportsbook=Sportsbook.objects.get(key=book),
        defaults=_quote_fields(outcome, Decimal(price), timezone.now(), suspended=suspended),
    )
    _refresh_snapshot(outcome.market_id)
    return quote


@dataclass
class Game:
    event: Event
    markets: dict[str, Market] = field(default_factory=dict)
    outcomes: dict[str, Outcome] = field(default_factory=dict)

    def o(self, name: str) -> Outcome:
        return self.outcomes[name]


def make_game(
    *, starts_in=timedelta(days=2), home="Chiefs", away="Chargers", sport="americanfootball_nfl"
) -> Game:
    book_rows = books()
    sport_row, _ = Sport.objects.get_or_create(key=sport, defaults={"title": sport.split("_")[-1].upper()})
    n = _next()
    event = Event.objects.create(
        provider_id=f"evt{n}-{timezone.now().timestamp()}",
        sport=sport_row,
        home_team=home,
        away_team=away,
        commence_time=timezone.now() + starts_in,
    )
    game = Game(event)
    specs = [
        (
            "h2h",
            None,
            "",
            [("home_ml", home, None), ("away_ml", away, None)],
            [("2.10", "1.80"), ("2.20", "1.72"), ("2.05", "1.85")],
        ),
        (
            "spreads",
            Decimal("-3.5"),
            "",
            [("home_spread", home, Decimal("-3.5")), ("away_spread", away, Decimal("3.5"))],
            [("1.95", "1.95"), ("2.00", "1.87"), ("1.91", "1.91")],
        ),
        (
            "totals",
            Decimal("44.5"),
            "",
            [("over", "Over", Decimal("44.5")), ("under", "Under", Decimal("44.5"))],
            [("1.93", "1.97"), ("1.95", "1.90"), ("1.91", "1.91")],
        ),
        (
            "player_pass_yds",
            Decimal("285.5"),
            "Patrick Mahomes",
            [("prop_over", "Over", Decimal("285.5")), ("prop_under", "Under", Decimal("285.5"))],
            [("1.90", "2.00"), ("1.95", "1.87"), ("1.91", "1.91")],
        ),
    ]
    for key, point, player, outcomes, prices in specs:
        market = Market.objects.create(event=event, key=key, point=point, player=player)
        game.markets[key] = market
        for alias, name, outcome_point in outcomes:
            game.outcomes[alias] = Outcome.objects.create(market=market, name=name, point=outcome_point)
        now = timezone.now()
        first_outcome, second_outcome = game.outcomes[outcomes[0][0]], game.outcomes[outcomes[1][0]]
        OddsQuote.objects.bulk_create(
            OddsQuote(
                outcome=outcome, sportsbook=book_rows[book], **_quote_fields(outcome, Decimal(price), now)
            )
            for book, pair in zip(("pinnacle", "draftkings", "fanduel"), prices, strict=True)
            for outcome, price in zip((first_outcome, second_outcome), pair, strict=True)
        )
        _refresh_snapshot(market.pk)
    return game


def same_game_quote(
    game: Game, aliases: list[str], *, book: str = "draftkings", price: str = "3.60"
) -> SameGameQuote:
    return SameGameQuote.objects.create(
        sportsbook_id=book,
        event=game.event,
        selection_key=SameGameQuote.key_for(game.o(a).pk for a in aliases),
        price_decimal=Decimal(price),
    )


def make_edge(game: Game, alias: str, book: str, *, kelly: float = 0.10):
    """An active +EV edge on one outcome at one book (as the edges finder would store it)."""
    from datetime import timedelta as _td

    from edges.models import Edge

    outcome = game.o(alias)
    quote = OddsQuote.objects.get(outcome=outcome, sportsbook__key=book)
    now = timezone.now()
    return Edge.objects.create(
        edge_id=hashlib.blake2b(f"ev:{outcome.pk}:{book}".encode(), digest_size=10).hexdigest(),
        kind=Edge.Kind.POSITIVE_EV,
        sport_key=game.event.sport.key,
        event=game.event,
        market=outcome.market,
        outcome=outcome,
        sportsbook=Sportsbook.objects.get(key=book),
        market_type=outcome.market.key,
        side=outcome.name,
        best_odds_american=quote.price_american,
        best_odds_decimal=quote.price_decimal,
        fair_probability=0.5,
        fair_odds_decimal=Decimal("2.000000"),
        edge_percentage=0.045,
        expected_value_per_dollar=0.10,
        kelly_fraction=kelly,
        oldest_quote_at=now,
        stale_after=now + _td(minutes=5),
        expires_at=now + _td(hours=1),
    )
