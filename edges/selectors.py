"""Reads of the edges app: board queries, quotes, fair prices, market snapshots."""

from __future__ import annotations

import logging
import re
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from betthat.core.money import to_minor
from edges import cache, pricing
from edges.models import Edge, Event, Market, OddsHistory, OddsQuote, Outcome, Sportsbook

logger = logging.getLogger(__name__)

_outcome_market: dict[int, int] = {}
_OUTCOME_MARKET_MAX = 200_000


def sharp_book_keys() -> list[str]:
    return list(Sportsbook.objects.filter(is_sharp=True).values_list("key", flat=True))


# --- the hot cache -----------------------------------------------------------------


def market_snapshot_build(*, market_id: int, now: datetime | None = None) -> dict[str, Any] | None:
    """The cache snapshot of one market, from the database."""
    market = Market.objects.select_related("event").filter(pk=market_id).first()
    if market is None:
        return None
    now = now or timezone.now()
    rows = OddsQuote.objects.filter(outcome__market_id=market_id).values_list(
        "outcome_id", "sportsbook__key", "price_decimal", "version", "is_suspended"
    )
    return snapshot_from_rows(market=market, rows=rows, now=now)


def snapshot_from_rows(*, market: Market, rows, now: datetime) -> dict[str, Any]:
    prices: dict[str, dict[str, list]] = defaultdict(dict)
    suspensions = set()
    version = 0
    for outcome_id, book, price, quote_version, is_suspended in rows:
        prices[str(outcome_id)][book] = [str(price), int(quote_version), bool(is_suspended)]
        version = max(version, int(quote_version))
        if is_suspended:
            suspensions.add(book)
    event = market.event
    if event.status != Event.Status.SCHEDULED or event.commence_time <= now:
        status = "closed"
    elif market.is_suspended:
        status = "suspended"
    else:
        status = "open"
    return {
        "market_id": market.pk,
        "version": version,
        "as_of": now.isoformat(),
        "status": status,
        "prices": prices,
        "suspensions": sorted(suspensions),
    }


def market_snapshot_current(*, market_id: int) -> dict[str, Any] | None:
    """The market's snapshot from Redis; rebuilt from the database on a miss or by the one
    reader elected in the stale-while-revalidate window."""
    try:
        snapshot, needs_refresh = cache.snapshot_get(market_id)
    except Exception:  # the cache is an accelerator, never a single point of failure
        logger.warning("odds cache unavailable", exc_info=True)
        return market_snapshot_build(market_id=market_id)
    if snapshot is not None and not needs_refresh:
        return snapshot
    fresh = market_snapshot_build(market_id=market_id)
    if fresh is not None:
        try:
            cache.snapshot_set(market_id, fresh)
        except Exception:
            logger.warning("odds cache write failed", exc_info=True)
        return fresh
    return snapshot


def _market_of(outcome_id: int) -> int | None:
    market_id = _outcome_market.get(outcome_id)
    if market_id is None:
        market_id = Outcome.objects.filter(pk=outcome_id).values_list("market_id", flat=True).first()
        if market_id is None:
            return None
        if len(_outcome_market) > _OUTCOME_MARKET_MAX:
            _outcome_market.clear()
        _outcome_market[outcome_id] = market_id
    return market_id


def quote_price_current(*, outcome_id: int, sportsbook_key: str) -> tuple[Decimal, int] | None:
    """(decimal price, version) of the book's current price for the outcome, from the hot
    cache, falling back to the database. None when there is no price to take: no quote,
    the quote or market is suspended, or the market has closed (the event started)."""
    market_id = _market_of(outcome_id)
    if market_id is None:
        return None
    snapshot = market_snapshot_current(market_id=market_id)
    if snapshot is None or snapshot["status"] != "open":
        return None
    entry = snapshot["prices"].get(str(outcome_id), {}).get(sportsbook_key)
    if entry is None or entry[2]:
        return None
    return Decimal(entry[0]), int(entry[1])


# --- fair prices -------------------------------------------------------------------


def market_quotes(*, market_id: int) -> tuple[list[Outcome], dict[str, list[float | None]]]:
    """The market's outcomes and, per book, its current decimal price of each (or None)."""
    outcomes = list(Outcome.objects.filter(market_id=market_id).order_by("id"))
    index = {o.pk: i for i, o in enumerate(outcomes)}
    quotes: dict[str, list[float | None]] = {}
    for outcome_id, book, price in OddsQuote.objects.filter(
        outcome__market_id=market_id, is_suspended=False
    ).values_list("outcome_id", "sportsbook__key", "price_decimal"):
        quotes.setdefault(book, [None] * len(outcomes))[index[outcome_id]] = float(price)
    return outcomes, quotes


def fair_probability_for_outcome(
    *, outcome_id: int, method: str = "multiplicative", reference: str = "sharp"
) -> float | None:
    """The outcome's fair probability with the margin removed by `method`, against the sharp
    books (falling back to the consensus of 3+ books) or the consensus. None if unpriced."""
    market_id = _market_of(outcome_id)
    if market_id is None:
        return None
    outcomes, quotes = market_quotes(market_id=market_id)
    if len(outcomes) < 2:
        return None
    line = pricing.fair_line(quotes, sharp_books=sharp_book_keys(), method=method, reference=reference)
    if line is None:
        return None
    position = next(i for i, o in enumerate(outcomes) if o.pk == outcome_id)
    return line.probabilities[position]


# --- edges -------------------------------------------------------------------------


@dataclass(frozen=True)
class EdgeFilters:
    sport: str = ""
    market_type: str = ""
    kind: str = ""
    sportsbook: str = ""
    event_id: int | None = None
    min_edge: float | None = None
    min_ev: float | None = None
    max_age_seconds: float | None = None
    status: str = "active"
    player: str = ""
    ordering: str = "-ev"
    sports: tuple[str, ...] = ()  # any of these (the viewer's favourite sports by default)

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v not in ("", None, ())}


ORDERINGS = {
    "-ev": ("-expected_value_per_dollar", "edge_id"),
    "ev": ("expected_value_per_dollar", "edge_id"),
    "-edge": ("-edge_percentage", "edge_id"),
    "edge": ("edge_percentage", "edge_id"),
    "-discovered": ("-discovered_at", "edge_id"),
    "discovered": ("discovered_at", "edge_id"),
}


def _edges() -> QuerySet[Edge]:
    return Edge.objects.select_related("event", "sportsbook", "market")


def search_edges(*, filters: EdgeFilters, now: datetime | None = None) -> QuerySet[Edge]:
    """Edges matching `filters` (the board's and the API's filters), ordered."""
    now = now or timezone.now()
    qs = _edges()
    if filters.status and filters.status != "all":
        qs = qs.filter(status=filters.status)
    if filters.sport:
        qs = qs.filter(sport_key=filters.sport)
    if filters.sports:
        qs = qs.filter(sport_key__in=filters.sports)
    if filters.market_type:
        qs = qs.filter(market_type=filters.market_type)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.sportsbook:
        qs = qs.filter(
            Q(sportsbook__key=filters.sportsbook) | Q(legs__contains=[{"sportsbook": filters.sportsbook}])
        )
    if filters.event_id is not None:
        qs = qs.filter(event_id=filters.event_id)
    if filters.player:
        qs = qs.filter(player__iexact=filters.player)
    if filters.min_edge is not None:
        qs = qs.filter(edge_percentage__gte=filters.min_edge)
    if filters.min_ev is not None:
        qs = qs.filter(expected_value_per_dollar__gte=filters.min_ev)
    if filters.max_age_seconds is not None:
        qs = qs.filter(oldest_quote_at__gte=now - timedelta(seconds=filters.max_age_seconds))
    return qs.order_by(*ORDERINGS.get(filters.ordering, ORDERINGS["-ev"]))


def edge_matches(edge: dict[str, Any], filters: EdgeFilters, *, now_ts: float) -> bool:
    """The same filters as `search_edges`, applied to a serialised edge (websocket deltas)."""
    if filters.status and filters.status != "all" and edge["status"] != filters.status:
        return False
    if filters.sport and edge["sport_key"] != filters.sport:
        return False
    if filters.sports and edge["sport_key"] not in filters.sports:
        return False
    if filters.market_type and edge["market_type"] != filters.market_type:
        return False
    if filters.kind and edge["kind"] != filters.kind:
        return False
    if filters.sportsbook and filters.sportsbook not in {leg["sportsbook"] for leg in edge["legs"]}:
        return False
    if filters.event_id is not None and edge["event_id"] != filters.event_id:
        return False
    if filters.player and edge["player"].lower() != filters.player.lower():
        return False
    if filters.min_edge is not None and edge["edge_percentage"] < filters.min_edge:
        return False
    if filters.min_ev is not None and edge["expected_value_per_dollar"] < filters.min_ev:
        return False
    return not (
        filters.max_age_seconds is not None and now_ts - edge["oldest_quote_ts"] > filters.max_age_seconds
    )


def get_active_edges(*, now: datetime | None = None) -> QuerySet[Edge]:
    return search_edges(filters=EdgeFilters(), now=now)


def get_top_edges(*, limit: int = 10, kind: str = "", by: str = "-ev") -> list[Edge]:
    return list(search_edges(filters=EdgeFilters(kind=kind, ordering=by))[:limit])


_EDGE_ID = re.compile(r"[0-9a-f]{1,64}")


def edge_get(*, edge_id: str) -> Edge | None:
    """The edge by its stable id (hex); anything else is no edge, not a query."""
    if not _EDGE_ID.fullmatch(edge_id):
        return None
    return _edges().filter(edge_id=edge_id).first()


# --- events ------------------------------------------------------------------------


def event_list(*, sport: str = "", status: str = "", date=None) -> QuerySet[Event]:
    qs = Event.objects.select_related("sport")
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
            best = max(quotes.values(), key=lambda q: q.price_decimal, default=None)
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


# --- the viewer's stake --------------------------------------------------------------


@dataclass(frozen=True)
class ViewerSizing:
    available_minor: int
    risk_tolerance: str
    max_kelly_fraction: Decimal
    cap_minor: int | None
    currency: str = "USD"

    def stake_minor(self, kelly: float) -> int:
        return pricing.recommended_stake_minor(
            available_minor=self.available_minor,
            kelly_fraction=kelly,
            risk_tolerance=self.risk_tolerance,
            max_kelly_fraction=self.max_kelly_fraction,
            cap_minor=self.cap_minor,
        )


def viewer_sizing(*, user: Any, available_minor: int, currency: str = "USD") -> ViewerSizing:
    """What the viewer's recommended stakes rest on: the available balance the caller read
    (edges does not read wallets), risk tolerance, max Kelly fraction and max bet size."""
    cap = None
    max_bet = getattr(user, "max_bet_size", None)
    if max_bet is not None:
        cap = to_minor(Decimal(max_bet.amount), str(max_bet.currency))
    return ViewerSizing(
        available_minor=available_minor,
        risk_tolerance=getattr(user, "risk_tolerance", "medium") or "medium",
        max_kelly_fraction=Decimal(getattr(user, "max_kelly_fraction", Decimal("0.25"))),
        cap_minor=cap,
        currency=currency,
    )


MAX_FAVOURITE_SPORTS = 50


def favourite_sports(*, user: Any) -> tuple[str, ...]:
    """The viewer's favourite sport keys (preference `favourite_sports`; the older `sports`
    key is read too). Anything that is not a list of sport keys is ignored."""
    preferences = getattr(user, "preferences", None)
    if not isinstance(preferences, dict):
        return ()
    value = preferences.get("favourite_sports", preferences.get("sports"))
    if not isinstance(value, list):
        return ()
    keys = [v for v in value if isinstance(v, str) and 0 < len(v) <= 60]
    return tuple(dict.fromkeys(keys))[:MAX_FAVOURITE_SPORTS]


def pricing_preferences(*, user) -> tuple[str, str]:
    prefs = (getattr(user, "preferences", None) or {}).get("pricing") or {}
    method, reference = prefs.get("devig_method"), prefs.get("reference")
    return (
        method if isinstance(method, str) and method in pricing.DEVIG_METHODS else "multiplicative",
        reference if isinstance(reference, str) and reference in pricing.REFERENCES else "sharp",
    )


# --- used by betting ---
# Reads the betting app makes of edges' data (it never queries edges' tables itself).


def outcomes_for_placement(*, outcome_ids: list[int], sportsbook_key: str) -> dict[int, Outcome]:
    """The outcomes with their market, event and sport, in one statement, each annotated with
    its quote at `sportsbook_key`: `quote_last_update` (None without a quote) and
    `book_freshness_seconds` (a quote older than that is stale)."""
    from django.db.models import OuterRef, Subquery

    quotes = OddsQuote.objects.filter(outcome_id=OuterRef("pk"), sportsbook__key=sportsbook_key)
    rows = (
        Outcome.objects.filter(pk__in=set(outcome_ids))
        .select_related("market__event__sport")
        .only(
            "id",
            "name",
            "point",
            "market__id",
            "market__key",
            "market__point",
            "market__player",
            "market__period",
            "market__is_suspended",
            "market__event__id",
            "market__event__home_team",
            "market__event__away_team",
            "market__event__commence_time",
            "market__event__status",
            "market__event__sport__id",
            "market__event__sport__key",
        )
        .annotate(
            quote_last_update=Subquery(quotes.values("last_update")[:1]),
            book_freshness_seconds=Subquery(
                Sportsbook.objects.filter(key=sportsbook_key).values("freshness_seconds")[:1]
            ),
        )
    )
    return {outcome.pk: outcome for outcome in rows}


def outcome_for_slip(*, outcome_id: int) -> Outcome | None:
    """One outcome with its market, event and sport (the bet slip's header)."""
    return Outcome.objects.select_related("market__event__sport").filter(pk=outcome_id).first()


def sportsbook_exists(*, sportsbook_key: str) -> bool:
    return Sportsbook.objects.filter(key=sportsbook_key).exists()


def edge_sizing(*, edge_id: str) -> Mapping[str, Any] | None:
    """`{"kelly_fraction": float, "fair_odds_decimal": Decimal}` of an edge, or None."""
    return Edge.objects.filter(edge_id=edge_id).values("kelly_fraction", "fair_odds_decimal").first()


def edge_slip_target(*, edge_id: str) -> tuple[int, str] | None:
    """(outcome id, sportsbook key) an edge can be bet at from the slip, or None."""
    row = Edge.objects.filter(edge_id=edge_id).values("outcome_id", "sportsbook__key").first()
    if row is None or row["outcome_id"] is None or not row["sportsbook__key"]:
        return None
    return int(row["outcome_id"]), str(row["sportsbook__key"])


def quote_prices_closing(*, pairs: list[tuple[int, str]]) -> dict[tuple[int, str], Decimal]:
    """{(outcome id, book key): last price} for the given pairs, from the quote rows (the hot
    cache reports a started market as closed: right for placement, not for the closing
    line). Suspended quotes and pairs without a quote are absent. One query."""
    if not pairs:
        return {}
    wanted = set(pairs)
    rows = OddsQuote.objects.filter(
        outcome_id__in={outcome_id for outcome_id, _book in wanted},
        sportsbook__key__in={book for _outcome_id, book in wanted},
        is_suspended=False,
    ).values_list("outcome_id", "sportsbook__key", "price_decimal")
    return {
        (int(outcome_id), str(book)): price
        for outcome_id, book, price in rows
        if (outcome_id, book) in wanted
    }


def quote_prices_by_book(*, outcome_id: int) -> dict[str, Decimal]:
    """{book key: decimal price} of the outcome's unsuspended quotes."""
    rows = OddsQuote.objects.filter(outcome_id=outcome_id, is_suspended=False).values_list(
        "sportsbook__key", "price_decimal"
    )
    return {str(book): price for book, price in rows}


def moneyline_quotes_open(*, now: datetime, limit: int = 20) -> list[tuple[int, str, Decimal]]:
    """(outcome id, book key, price) of unsuspended moneyline quotes on scheduled events that
    have not started, soonest event first and best price first (the demo's first bets)."""
    rows = (
        OddsQuote.objects.filter(
            is_suspended=False,
            outcome__market__key="h2h",
            outcome__market__event__status=Event.Status.SCHEDULED,
            outcome__market__event__commence_time__gt=now,
        )
        .order_by("outcome__market__event__commence_time", "-price_decimal")
        .values_list("outcome_id", "sportsbook__key", "price_decimal")[:limit]
    )
    return [(int(outcome_id), str(book), price) for outcome_id, book, price in rows]
