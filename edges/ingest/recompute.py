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

from django.db import connection, transaction

from edges import cache, finder, realtime
from edges.ingest.normalise import IngestReport
from edges.ingest.store import store_edges
from edges.ingest.upsert import AcceptedRow
from edges.models import Edge, Event, Market, Outcome

logger = logging.getLogger(__name__)

Family = tuple[int, str, str, str]  # event, key, player, period
SnapshotRow = tuple[int, str, Decimal, int, bool]  # outcome, book key, price, version, suspended


@dataclass
class Scope:
    """What one batch touched: the markets with a new quote and every line of their families."""

    touched: set[int]
    families: dict[Family, list[finder.MarketInfo]] = field(default_factory=dict)
    markets: dict[int, finder.MarketInfo] = field(default_factory=dict)
    events: dict[int, finder.EventInfo] = field(default_factory=dict)


@dataclass
class Quotes:
    """The current quotes of the scope: live ones per market for the finder, every one of a
    touched market for its cache snapshot."""

    by_market: dict[int, list[finder.QuoteRow]] = field(default_factory=lambda: defaultdict(list))
    snapshots: dict[int, list[SnapshotRow]] = field(default_factory=lambda: defaultdict(list))


def recompute(
    *,
    accepted: list[AcceptedRow],
    books: dict[str, finder.BookInfo],
    now: datetime,
    report: IngestReport,
    batch_at: float,
) -> None:
    books_by_id = {b.id: b for b in books.values()}
    scope = _scope(accepted)
    report.markets_touched += len(scope.touched)
    quotes = _quotes(scope, books_by_id)
    found = _find(scope, quotes, books_by_id, now)
    upserted, removed = store_edges(
        found=found, market_ids=list(scope.markets), markets=scope.markets, events=scope.events, now=now
    )
    report.edges_upserted += len(upserted)
    report.edges_removed += len(removed)
    _refresh_cache_on_commit(scope, quotes, now)
    _publish(accepted, scope, books_by_id, upserted, removed, batch_at)


def _scope(accepted: list[AcceptedRow]) -> Scope:
    outcome_ids = {row[0] for row in accepted}
    touched = set(Outcome.objects.filter(pk__in=outcome_ids).values_list("market_id", flat=True).distinct())
    scope = Scope(touched=touched)
    families = set(Market.objects.filter(pk__in=touched).values_list("event_id", "key", "player", "period"))
    event_ids = {family[0] for family in families}
    for pk, event_id, key, player, period, point in Market.objects.filter(event_id__in=event_ids).values_list(
        "id", "event_id", "key", "player", "period", "point"
    ):
        if (event_id, key, player, period) in families:
            info = finder.MarketInfo(pk, event_id, key, player, period, point)
            scope.families.setdefault((event_id, key, player, period), []).append(info)
            scope.markets[pk] = info
    scope.events = {
        pk: finder.EventInfo(pk, sport_key, home, away, commence)
        for pk, sport_key, home, away, commence in Event.objects.filter(pk__in=event_ids).values_list(
            "id", "sport__key", "home_team", "away_team", "commence_time"
        )
    }
    return scope


_QUOTES_SQL = (
    "SELECT q.outcome_id, o.market_id, o.name, o.point, q.sportsbook_id, q.price_decimal, q.price_american,"
    " q.last_update, q.version, q.is_suspended FROM edges_oddsquote q JOIN edges_outcome o ON o.id = q.outcome_id"
    " WHERE o.market_id = ANY(%s)"
)


def _quotes(scope: Scope, books_by_id: dict[int, finder.BookInfo]) -> Quotes:
    quotes = Quotes()
    with connection.cursor() as cursor:
        cursor.execute(_QUOTES_SQL, [list(scope.markets)])
        for (
            outcome_id,
            market_id,
            name,
            point,
            book_id,
            price,
            american,
            last_update,
            version,
            suspended,
        ) in cursor:
            if market_id in scope.touched:
                quotes.snapshots[market_id].append(
                    (outcome_id, books_by_id[book_id].key, price, version, suspended)
                )
            if not suspended:
                quotes.by_market[market_id].append(
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
    from edges.selectors import snapshot_from_rows

    market_objs = Market.objects.select_related("event").in_bulk(scope.touched)
    snapshots = [
        (pk, snapshot_from_rows(market=market_objs[pk], rows=quotes.snapshots[pk], now=now))
        for pk in scope.touched
        if pk in market_objs
    ]

    def after_commit() -> None:
        try:
            cache.snapshot_set_many(snapshots)
        except Exception:  # the cache is an accelerator: the database stays the truth
            logger.warning("odds cache write failed", exc_info=True)

    transaction.on_commit(after_commit)


def _publish(
    accepted: list[AcceptedRow],
    scope: Scope,
    books_by_id: dict[int, finder.BookInfo],
    upserted: list[Edge],
    removed: list[Edge],
    batch_at: float,
) -> None:
    """One fan-out message per group for the whole batch, after commit."""
    outcome_market = dict(
        Outcome.objects.filter(pk__in={row[0] for row in accepted}).values_list("id", "market_id")
    )
    quotes_by_event: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for outcome_id, book_id, price, version, suspended in accepted:
        market = scope.markets.get(outcome_market[outcome_id])
        if market is None:
            continue
        quotes_by_event[market.event_id].append(
            {
                "outcome_id": outcome_id,
                "market_id": market.id,
                "sportsbook": books_by_id[book_id].key,
                "price_decimal": str(price),
                "version": version,
                "is_suspended": suspended,
            }
        )
    groups = realtime.quote_groups(quotes_by_event)
    realtime.edge_groups(upserted, removed, reason="gone", into=groups)
    realtime.send_groups(groups, on_commit=True, batch_at=batch_at)
