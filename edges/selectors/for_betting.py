"""Reads the betting app makes of edges' data (it never queries edges' tables itself)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import connection

from betthat.core.db import prepared_cursor
from edges.models import SIMULATED_PREFIX, Edge, Event, Market, OddsQuote, Outcome, Sport, Sportsbook

# The fields loaded of each model, in the statement's column order (the model's field order,
# as `Model.from_db` wants them); the slip needs these and no more (the others stay deferred).
_OUTCOME_FIELDS = ("id", "market_id", "name", "point")
_MARKET_FIELDS = ("id", "event_id", "key", "point", "player", "period", "is_suspended")
_EVENT_FIELDS = ("id", "sport_id", "home_team", "away_team", "commence_time", "status")
_SPORT_FIELDS = ("id", "key")
_PLACEMENT_SQL = """
SELECT o.id, o.market_id, o.name, o.point,
       m.id, m.event_id, m.key, m.point, m.player, m.period, m.is_suspended,
       e.id, e.sport_id, e.home_team, e.away_team, e.commence_time, e.status,
       s.id, s.key,
       (SELECT q.last_update FROM edges_oddsquote q JOIN edges_sportsbook b ON b.id = q.sportsbook_id
         WHERE q.outcome_id = o.id AND b.key = %(book)s LIMIT 1),
       (SELECT b.freshness_seconds FROM edges_sportsbook b WHERE b.key = %(book)s LIMIT 1)
  FROM edges_outcome o
  JOIN edges_market m ON m.id = o.market_id
  JOIN edges_event e ON e.id = m.event_id
  JOIN edges_sport s ON s.id = e.sport_id
 WHERE o.id IN ({ids})
"""


def _placement_sql(count: int) -> str:
    """The statement for `count` outcomes, one parameter each: `o.id IN (%(id0)s, ...)`.

    Prepared per connection (`prepared_cursor`), one text per leg count. With
    `o.id = ANY(%(ids)s)` PostgreSQL planned the join anew for every bet: the generic plan of
    a prepared statement assumes an array of ten elements, costs more than a custom plan for
    one or two, so the plan cache never chose it (0.4 ms of the backend's CPU a bet). With
    one parameter per id the generic plan's estimates are the custom plans', and after its
    first five executions the statement is planned once for the connection's life."""
    return _PLACEMENT_SQL.format(ids=", ".join(f"%(id{index})s" for index in range(count)))


def outcomes_for_placement(*, outcome_ids: list[int], sportsbook_key: str) -> dict[int, Outcome]:
    """The outcomes with their market, event and sport, in one statement, each annotated with
    its quote at `sportsbook_key`: `quote_last_update` (None without a quote) and
    `book_freshness_seconds` (a quote older than that is stale). Written by hand (the same
    instances `select_related(...).only(...)` would build) because compiling that queryset
    cost more than running it, on every bet placed."""
    ids = sorted(set(outcome_ids))
    if not ids:
        return {}
    params: dict[str, Any] = {"book": sportsbook_key}
    params.update((f"id{index}", outcome_id) for index, outcome_id in enumerate(ids))
    with prepared_cursor() as cursor:
        cursor.execute(_placement_sql(len(ids)), params)
        rows = cursor.fetchall()
    outcomes: dict[int, Outcome] = {}
    alias = connection.alias
    for row in rows:
        values = iter(row)
        outcome = Outcome.from_db(alias, _OUTCOME_FIELDS, [next(values) for _ in _OUTCOME_FIELDS])
        market = Market.from_db(alias, _MARKET_FIELDS, [next(values) for _ in _MARKET_FIELDS])
        event = Event.from_db(alias, _EVENT_FIELDS, [next(values) for _ in _EVENT_FIELDS])
        event.sport = Sport.from_db(alias, _SPORT_FIELDS, [next(values) for _ in _SPORT_FIELDS])
        market.event = event
        outcome.market = market
        outcome.quote_last_update, outcome.book_freshness_seconds = values  # type: ignore[attr-defined]
        outcomes[outcome.pk] = outcome
    return outcomes


def outcome_for_slip(*, outcome_id: int) -> Outcome | None:
    """One outcome with its market, event and sport (the bet slip's header)."""
    return Outcome.objects.select_related("market__event__sport").filter(pk=outcome_id).first()


def sportsbook_exists(*, sportsbook_key: str) -> bool:
    return Sportsbook.objects.filter(key=sportsbook_key).exists()


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def edge_snapshot(*, edge_id: str) -> dict[str, Any] | None:
    """The edge as it stands now, as JSON-safe values, for a bet to keep (the edge row itself
    expires and is deleted a week later): what it was, its prices and its numbers. None when
    there is no such edge. Floats stay floats; decimals and times are text."""
    edge = Edge.objects.select_related("sportsbook").filter(edge_id=edge_id).first()
    if edge is None:
        return None
    return {
        "edge_id": edge.edge_id,
        "kind": edge.kind,
        "status": edge.status,
        "sport_key": edge.sport_key,
        "market_type": edge.market_type,
        "player": edge.player,
        "line": _text(edge.line),
        "side": edge.side,
        "sportsbook": edge.sportsbook.key if edge.sportsbook else "",
        "best_odds_decimal": _text(edge.best_odds_decimal),
        "best_odds_american": edge.best_odds_american,
        "fair_probability": edge.fair_probability,
        "fair_odds_decimal": _text(edge.fair_odds_decimal),
        "edge_percentage": edge.edge_percentage,
        "expected_value_per_dollar": edge.expected_value_per_dollar,
        "kelly_fraction": edge.kelly_fraction,
        "devig_method": edge.devig_method,
        "reference": edge.reference,
        "legs": edge.legs,
        "middle_low": _text(edge.middle_low),
        "middle_high": _text(edge.middle_high),
        "version": edge.version,
        "discovered_at": edge.discovered_at.isoformat(),
        "updated_at": edge.updated_at.isoformat(),
    }


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


def positive_ev_edges_open(
    *, now: datetime, limit: int = 10, simulated_only: bool = False
) -> list[tuple[str, int, str, Decimal]]:
    """(edge id, outcome id, book key, price) of active +EV edges on events that have not
    started, best EV first (the demo's first bets are taken from them);
    `simulated_only`: on the demo feed's own events only."""
    edges = Edge.objects.filter(
        status=Edge.Status.ACTIVE,
        kind=Edge.Kind.POSITIVE_EV,
        outcome__isnull=False,
        sportsbook__isnull=False,
        event__status=Event.Status.SCHEDULED,
        event__commence_time__gt=now,
    )
    if simulated_only:
        edges = edges.filter(event__provider_id__startswith=SIMULATED_PREFIX)
    rows = edges.order_by("-expected_value_per_dollar").values_list(
        "edge_id", "outcome_id", "sportsbook__key", "best_odds_decimal"
    )[:limit]
    return [(str(edge_id), int(outcome_id), str(book), price) for edge_id, outcome_id, book, price in rows]


def moneyline_quotes_open(
    *, now: datetime, limit: int = 20, simulated_only: bool = False
) -> list[tuple[int, str, Decimal]]:
    """(outcome id, book key, price) of unsuspended moneyline quotes on scheduled events that
    have not started, soonest event first and best price first (the demo's first bets);
    `simulated_only`: on the demo feed's own events only."""
    quotes = OddsQuote.objects.all()
    if simulated_only:
        quotes = quotes.filter(outcome__market__event__provider_id__startswith=SIMULATED_PREFIX)
    rows = (
        quotes.filter(
            is_suspended=False,
            outcome__market__key="h2h",
            outcome__market__event__status=Event.Status.SCHEDULED,
            outcome__market__event__commence_time__gt=now,
        )
        .order_by("outcome__market__event__commence_time", "-price_decimal")
        .values_list("outcome_id", "sportsbook__key", "price_decimal")[:limit]
    )
    return [(int(outcome_id), str(book), price) for outcome_id, book, price in rows]
