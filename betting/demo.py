"""Demo data for the betting app (idempotent).

Only the demo feed's own (`sim-`) events are touched, never a real feed's.

- Same-game prices: for the next few scheduled demo events, each book that quotes both the
  home moneyline and the over of the main total gets a same-game quote for that pair
  (and the away/under pair). The demo feed has no same-game feed of its own, so the quote
  is the product of the two legs less a correlation haircut, the way a book prices a
  correlated pair below the independent product.
- A first bet for each demo bettor who has none, from a +EV edge on the board when there is
  one (the bet keeps that edge), placed through `bet_place` at the current price (real holds in the wallet), so My bets and the statistics have something
  to show once the demo events finish.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, Decimal

from django.utils import timezone

from betthat.core.errors import ApplicationError
from betting.models import Bet, SameGameQuote
from betting.services import LegRequest, bet_place
from edges.models import SIMULATED_PREFIX, Event, Outcome
from edges.selectors import moneyline_quotes_open, positive_ev_edges_open, quote_prices_by_book

SGP_EVENTS = 4
SGP_HAIRCUT = Decimal("0.90")
DEMO_STAKE_MINOR = 1000


def _main_total_outcome(event: Event, name: str) -> Outcome | None:
    return (
        Outcome.objects.filter(market__event=event, market__key="totals", market__player="", name=name)
        .order_by("market__point")
        .first()
    )


def _seed_same_game_quotes(now) -> int:
    created = 0
    events = Event.objects.filter(
        status=Event.Status.SCHEDULED, commence_time__gt=now, provider_id__startswith=SIMULATED_PREFIX
    ).order_by("commence_time")
    for event in events[:SGP_EVENTS]:
        over, under = _main_total_outcome(event, "Over"), _main_total_outcome(event, "Under")
        home = Outcome.objects.filter(market__event=event, market__key="h2h", name=event.home_team).first()
        away = Outcome.objects.filter(market__event=event, market__key="h2h", name=event.away_team).first()
        for first, second in ((home, over), (away, under)):
            if first is None or second is None:
                continue
            prices: dict[str, list[Decimal]] = {}
            for outcome in (first, second):
                for book, price in quote_prices_by_book(outcome_id=outcome.pk).items():
                    prices.setdefault(book, []).append(price)
            for book, pair in prices.items():
                if len(pair) != 2:
                    continue
                price = (pair[0] * pair[1] * SGP_HAIRCUT).quantize(Decimal("0.0001"), rounding=ROUND_DOWN)
                if price <= 1:
                    continue
                _, is_new = SameGameQuote.objects.update_or_create(
                    sportsbook_id=book,
                    event=event,
                    selection_key=SameGameQuote.key_for([first.pk, second.pk]),
                    defaults={"price_decimal": price, "updated_at": now},
                )
                created += int(is_new)
    return created


def _first_bets(users) -> int:
    """Each demo bettor's first bet: taken from a +EV edge when the board has one (so the bet
    page shows the edge it came from), else the soonest moneyline."""
    placed = 0
    now = timezone.now()
    candidates: list[tuple[str, int, str, Decimal]] = positive_ev_edges_open(
        now=now, limit=10, simulated_only=True
    )
    if not candidates:
        candidates = [
            ("", outcome_id, book, price)
            for outcome_id, book, price in moneyline_quotes_open(now=now, limit=20, simulated_only=True)
        ]
    for index, user in enumerate(u for u in users if not u.is_staff):
        if Bet.objects.filter(user_id=user.pk).exists() or not candidates:
            continue
        edge_id, outcome_id, book, price = candidates[index % len(candidates)]
        try:
            bet_place(
                user=user,
                legs=[LegRequest(outcome_id, book, price)],
                stake_minor=DEMO_STAKE_MINOR,
                accept_price_change="any",
                idempotency_key="demo-first-bet",
                edge_id=edge_id,
            )
            placed += 1
        except ApplicationError:
            continue  # no funds or the market moved on: the demo still runs
    return placed


def seed(*, users, stdout) -> None:
    now = timezone.now()
    quotes = _seed_same_game_quotes(now)
    placed = _first_bets(users)
    stdout.write(f"betting: {quotes} new same-game quotes, {placed} first bets placed")
