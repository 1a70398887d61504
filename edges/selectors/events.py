"""Events and their markets: the event list, one event, the per-market board grid with
the viewer's pricing, the odds history."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from edges import pricing
from edges.models import SIMULATED_PREFIX, Edge, Event, Market, OddsHistory, OddsQuote, Outcome, Sportsbook


def event_list(
    *, sport: str = "", status: str = "", date=None, simulated_only: bool = False
) -> QuerySet[Event]:
    """Events by sport, status and day; `simulated_only`: the demo feed's own (its provider ids)."""
    qs = Event.objects.select_related("sport")
    if simulated_only:
        qs = qs.filter(provider_id__startswith=SIMULATED_PREFIX)
    if sport:
        qs = qs.filter(sport__key=sport)
    if status:
        qs = qs.filter(status=status)
    if date is not None:
        qs = qs.filter(commence_time__date=date)
    return qs.order_by("commence_time", "id")


def event_get(*, event_id: int) -> Event | None:
    return Event.objects.select_related("sport").filter(pk=event_id).first()


@dataclass
class MarketBoard:
    market: Market
    books: list[Sportsbook]
    rows: list[dict[str, Any]]  # per outcome: name, quotes {book_key: quote}, best_book, fair
    method: str
    reference: str


def event_markets_board(
    *, event: Event, method: str = "multiplicative", reference: str = "sharp"
) -> list[MarketBoard]:
    """Every market of the event as a book-by-book grid with the best price and fair price."""
    books = list(Sportsbook.objects.filter(is_active=True))
    sharp = [b.key for b in books if b.is_sharp]
    markets = list(Market.objects.filter(event=event).order_by("key", "player", "point"))
    outcomes_by_market: dict[int, list[Outcome]] = defaultdict(list)
    for outcome in Outcome.objects.filter(market__event=event).order_by("id"):
        outcomes_by_market[outcome.market_id].append(outcome)
    quotes_by_outcome: dict[int, dict[str, OddsQuote]] = defaultdict(dict)
    for quote in OddsQuote.objects.filter(outcome__market__event=event).select_related("sportsbook"):
        quotes_by_outcome[quote.outcome_id][quote.sportsbook.key] = quote
    boards = []
    for market in markets:
        outcomes = outcomes_by_market.get(market.pk, [])
        if not outcomes:
            continue
        per_book: dict[str, list[float | None]] = {}
        for i, outcome in enumerate(outcomes):
            for book, quote in quotes_by_outcome[outcome.pk].items():
                if not quote.is_suspended:
                    per_book.setdefault(book, [None] * len(outcomes))[i] = float(quote.price_decimal)
        line = (
            pricing.fair_line(per_book, sharp_books=sharp, method=method, reference=reference)
            if len(outcomes) > 1
            else None
        )
        rows = []
        for i, outcome in enumerate(outcomes):
            quotes = quotes_by_outcome[outcome.pk]
            # a suspended quote cannot be bet: it is shown, never the best price
            best = max(
                (q for q in quotes.values() if not q.is_suspended),
                key=lambda q: q.price_decimal,
                default=None,
            )
            fair_p = line.probabilities[i] if line else None
            rows.append(
                {
                    "outcome": outcome,
                    "quotes": quotes,
                    "cells": [quotes.get(b.key) for b in books],
                    "best_book": best.sportsbook.key if best else None,
                    "best_price": best.price_decimal if best else None,
                    "fair_probability": fair_p,
                    "fair_odds": (1 / fair_p) if fair_p else None,
                    "fair_american": pricing.decimal_to_american(Decimal(repr(1 / fair_p)))
                    if fair_p and fair_p < 1
                    else None,
                }
            )
        boards.append(
            MarketBoard(
                market=market,
                books=books,
                rows=rows,
                method=method,
                reference=line.reference if line else reference,
            )
        )
    return boards


def market_history(*, event: Event, market_id: int | None = None) -> dict[int, dict[str, Any]]:
    """Line movement: per market, per outcome and book, the [(time, price)] series."""
    qs = OddsHistory.objects.filter(outcome__market__event=event)
    if market_id is not None:
        qs = qs.filter(outcome__market_id=market_id)
    rows = qs.order_by("recorded_at", "id").values_list(
        "outcome__market_id", "outcome_id", "outcome__name", "sportsbook__key", "recorded_at", "price_decimal"
    )
    series: dict[int, dict[str, Any]] = {}
    for m_id, outcome_id, name, book, when, price in rows.iterator(chunk_size=2000):
        market = series.setdefault(m_id, {"market_id": m_id, "outcomes": {}})
        outcome = market["outcomes"].setdefault(
            outcome_id, {"outcome_id": outcome_id, "name": name, "books": {}}
        )
        outcome["books"].setdefault(book, []).append((when, price))
    return series


def quote_age_seconds(*, edge: Edge, now: datetime | None = None) -> float:
    return max(0.0, ((now or timezone.now()) - edge.oldest_quote_at).total_seconds())
