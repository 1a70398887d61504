"""The touched market families recomputed once per batch: their quotes read as plain rows,
the finder run per family, the edges stored, then the hot cache and the websocket deltas
after commit."""

from __future__ import annotations

import logging
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction

from betthat.core.db import binding_cursor
from edges import cache, finder, realtime
from edges.ingest.normalise import IngestReport
from edges.ingest.store import EdgeRow, store_edges
from edges.ingest.upsert import AcceptedRow

logger = logging.getLogger(__name__)

Family = tuple[int, str, str, str]  # event, key, player, period
SnapshotRow = tuple[int, str, Decimal, int, bool]  # outcome, book key, price, version, suspended


@dataclass
class Scope:
    """What one batch touched: the markets with a new quote and every line of their families,
    with what their cache snapshots show of each market and its event."""

    touched: set[int]
    families: dict[Family, list[finder.MarketInfo]] = field(default_factory=dict)
    markets: dict[int, finder.MarketInfo] = field(default_factory=dict)
    events: dict[int, finder.EventInfo] = field(default_factory=dict)
    # market -> (market suspended, event status)
    states: dict[int, tuple[bool, str]] = field(default_factory=dict)


@dataclass
class Quotes:
    """The current quotes of the scope: live ones per market for the finder, every one of a
    touched market for its cache snapshot."""

    by_market: dict[int, list[finder.QuoteRow]] = field(default_factory=lambda: defaultdict(list))
    snapshots: dict[int, list[SnapshotRow]] = field(default_factory=lambda: defaultdict(list))


def recompute(
    *,
    accepted: list[AcceptedRow],
    market_of: dict[int, int],
    books: dict[str, finder.BookInfo],
    now: datetime,
    report: IngestReport,
    batch_at: float,
) -> None:
    """`market_of`: the market of each accepted quote's outcome."""
    books_by_id = {b.id: b for b in books.values()}
    scope = _scope({market_of[row[0]] for row in accepted})
    report.markets_touched += len(scope.touched)
    quotes = _quotes(scope, books_by_id)
    found = _find(scope, quotes, books_by_id, now)
    upserted, removed = store_edges(
        found=found,
        market_ids=list(scope.markets),
        markets=scope.markets,
        events=scope.events,
        books=books_by_id,
        now=now,
    )
    report.edges_upserted += len(upserted)
    report.edges_removed += len(removed)
    _refresh_cache_on_commit(scope, quotes, now)
    _match_alerts_on_commit(upserted)
    _publish(accepted, market_of, scope, books_by_id, upserted, removed, batch_at)


# Every line of the touched markets' families, with its event: one statement.
_SCOPE_SQL = """
SELECT m.id, m.event_id, m.key, m.player, m.period, m.point, m.is_suspended,
       e.status, s.key, e.home_team, e.away_team, e.commence_time
  FROM edges_market m
  JOIN edges_event e ON e.id = m.event_id
  JOIN edges_sport s ON s.id = e.sport_id
 WHERE (m.event_id, m.key, m.player, m.period) IN (
        SELECT t.event_id, t.key, t.player, t.period FROM edges_market t WHERE t.id = ANY(%s))
"""


def _scope(touched: set[int]) -> Scope:
    scope = Scope(touched=touched)
    with binding_cursor() as cursor:
        cursor.execute(_SCOPE_SQL, [list(touched)], binary=True)
        rows = cursor.fetchall()
    for pk, event_id, key, player, period, point, suspended, status, sport_key, home, away, commence in rows:
        info = finder.MarketInfo(pk, event_id, key, player, period, point)
        scope.families.setdefault((event_id, key, player, period), []).append(info)
        scope.markets[pk] = info
        scope.states[pk] = (suspended, status)
        if event_id not in scope.events:
            scope.events[event_id] = finder.EventInfo(event_id, sport_key, home, away, commence)
    return scope


_QUOTES_SQL = (
    "SELECT q.outcome_id, o.market_id, o.name, o.point, q.sportsbook_id, q.price_decimal, q.price_american,"
    " q.last_update, q.version, q.is_suspended FROM edges_oddsquote q JOIN edges_outcome o ON o.id = q.outcome_id"
    " WHERE o.market_id = ANY(%s)"
)


def _quotes(scope: Scope, books_by_id: dict[int, finder.BookInfo]) -> Quotes:
    quotes = Quotes()
    with binding_cursor() as cursor:
        cursor.execute(_QUOTES_SQL, [list(scope.markets)], binary=True)
        rows = cursor.fetchall()
    touched = scope.touched
    snapshots, by_market = quotes.snapshots, quotes.by_market
    for outcome_id, market_id, name, point, book_id, price, american, last_update, version, suspended in rows:
        if market_id in touched:
            snapshots[market_id].append((outcome_id, books_by_id[book_id].key, price, version, suspended))
        if not suspended:
            by_market[market_id].append(
                finder.QuoteRow(
                    outcome_id, market_id, name, point, book_id, price, american, last_update, version
                )
            )
    return quotes


def _find(
    scope: Scope, quotes: Quotes, books_by_id: dict[int, finder.BookInfo], now: datetime
) -> list[finder.FoundEdge]:
    """The finder over each family of an event that has not started (edges are pre-match)."""
    found: list[finder.FoundEdge] = []
    for family, infos in scope.families.items():
        event = scope.events[family[0]]
        if event.commence_time <= now:
            continue
        rows = [row for info in infos for row in quotes.by_market.get(info.id, [])]
        found.extend(finder.find_edges(event=event, markets=infos, rows=rows, books=books_by_id, now=now))
    return found


def _refresh_cache_on_commit(scope: Scope, quotes: Quotes, now: datetime) -> None:
    from edges.selectors import snapshot_of

    snapshots = [
        (
            pk,
            snapshot_of(
                market_id=pk,
                market_suspended=scope.states[pk][0],
                event_status=scope.states[pk][1],
                commence_time=scope.events[scope.markets[pk].event_id].commence_time,
                rows=quotes.snapshots[pk],
                now=now,
            ),
        )
        for pk in scope.touched
        if pk in scope.markets
    ]

    def after_commit() -> None:
        try:
            cache.snapshot_set_many(snapshots)
        except Exception:  # the cache is an accelerator: the database stays the truth
            logger.warning("odds cache write failed", exc_info=True)

    transaction.on_commit(after_commit)


def _match_alerts_on_commit(upserted: list[EdgeRow]) -> None:
    """Hand the tick's written active edges to the alert matcher, after commit, on a worker:
    the ingest does no alert work itself (no query, whatever the number of alerts)."""
    edge_ids = [row.edge_id for row in upserted if row.status == "active"]
    if not edge_ids:
        return

    def enqueue() -> None:
        from edges.tasks import match_edge_alerts_task

        try:
            match_edge_alerts_task.delay(edge_ids)
        except Exception:  # alerts are best effort; the board and the database are the truth
            logger.warning("could not enqueue edge alert matching", exc_info=True)

    transaction.on_commit(enqueue)


def _publish(
    accepted: list[AcceptedRow],
    market_of: dict[int, int],
    scope: Scope,
    books_by_id: dict[int, finder.BookInfo],
    upserted: list[EdgeRow],
    removed: list[EdgeRow],
    batch_at: float,
) -> None:
    """One fan-out message per group for the whole batch, after commit."""
    quotes_by_event: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for outcome_id, book_id, price, version, suspended in accepted:
        market = scope.markets.get(market_of[outcome_id])
        if market is None:
            continue
        quotes_by_event[market.event_id].append(
            realtime.quote_dict(
                outcome_id=outcome_id,
                market_id=market.id,
                sportsbook=books_by_id[book_id].key,
                price=price,
                version=version,
                suspended=suspended,
            )
        )
    groups = realtime.quote_groups(quotes_by_event)
    realtime.edge_groups(upserted, removed, reason="gone", into=groups)
    realtime.send_groups(groups, on_commit=True, batch_at=batch_at)
