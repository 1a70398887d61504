"""Edges written: the found edges upserted by their stable id (only when something they
rest on moved), the ones not found again expired, and the one way an edge changes status.

A batch writes its edges through arrays bound server-side (`binding_cursor`), and its
deltas are serialised from plain rows (`EdgeRow`) carrying the event and book the scope
already read: no model instance, no query for them."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from decimal import Decimal
from operator import attrgetter
from typing import Any

from django.db.models import F, Value
from django.db.models.functions import Greatest

from betthat.core.db import binding_cursor
from edges import finder
from edges.ingest.normalise import version_of
from edges.models import Edge

# edge_id -> (pk, status, discovered_at, version) of the stored edges a recompute may touch
Stored = dict[str, tuple[int, str, datetime, int]]


@dataclass(slots=True)
class EdgeRow:
    """An edge as written (every column but the id, in `_COLUMNS` order), with the event and
    book its delta shows: what `realtime.edge_to_dict` reads of an `Edge`."""

    edge_id: str
    kind: str
    status: str
    sport_key: str
    event_id: int
    market_id: int
    outcome_id: int | None
    sportsbook_id: int | None
    market_type: str
    player: str
    line: Decimal | None
    side: str
    best_odds_american: int
    best_odds_decimal: Decimal
    fair_probability: float | None
    fair_odds_decimal: Decimal | None
    edge_percentage: float
    expected_value_per_dollar: float
    kelly_fraction: float
    devig_method: str
    reference: str
    confidence: float
    books_in_consensus: int
    reference_age_seconds: float | None
    legs: list[dict[str, Any]]
    middle_low: Decimal | None
    middle_high: Decimal | None
    context: dict[str, Any]
    oldest_quote_at: datetime
    stale_after: datetime
    version: int
    updated_at: datetime
    expires_at: datetime
    discovered_at: datetime
    event: finder.EventInfo
    sportsbook: finder.BookInfo | None


# The columns an upsert writes, in EdgeRow's order (its last two fields are not columns).
_COLUMNS = [f.name for f in fields(EdgeRow)][:-2]
_JSON_COLUMNS = {"legs", "context"}
_column_values = attrgetter(*_COLUMNS)
_ARRAY_TYPES = {
    "edge_id": "text", "kind": "text", "status": "text", "sport_key": "text", "event_id": "bigint",
    "market_id": "bigint", "outcome_id": "bigint", "sportsbook_id": "bigint", "market_type": "text",
    "player": "text", "line": "numeric", "side": "text", "best_odds_american": "int",
    "best_odds_decimal": "numeric", "fair_probability": "float8", "fair_odds_decimal": "numeric",
    "edge_percentage": "float8", "expected_value_per_dollar": "float8", "kelly_fraction": "float8",
    "devig_method": "text", "reference": "text", "confidence": "float8", "books_in_consensus": "int",
    "reference_age_seconds": "float8", "legs": "text", "middle_low": "numeric", "middle_high": "numeric",
    "context": "text", "oldest_quote_at": "timestamptz", "stale_after": "timestamptz", "version": "bigint",
    "updated_at": "timestamptz", "expires_at": "timestamptz", "discovered_at": "timestamptz",
}  # fmt: skip
assert list(_ARRAY_TYPES) == _COLUMNS

# Every column of every changed edge in one statement: one array per column, bound in
# binary, whatever the number of edges (the JSON columns travel as text and are cast).
_UPSERT_SQL = (
    f"INSERT INTO edges_edge ({', '.join(_COLUMNS)}) "
    f"SELECT {', '.join(f'{c}::jsonb' if c in _JSON_COLUMNS else c for c in _COLUMNS)} FROM unnest("
    + ", ".join(f"%b::{_ARRAY_TYPES[c]}[]" for c in _COLUMNS)
    + f") AS t ({', '.join(_COLUMNS)}) ON CONFLICT (edge_id) DO UPDATE SET "
    + ", ".join(f"{c} = EXCLUDED.{c}" for c in _COLUMNS if c != "edge_id")
)

_STORED_SQL = """
SELECT edge_id, id, status, discovered_at, version FROM edges_edge
 WHERE (market_id = ANY(%b) AND status IN ('active', 'stale')) OR edge_id = ANY(%b)
"""

# The edges not found again, expired with a version above both their own and the clock's
# (as `edges_set_status`), returned with the event and book their deltas show.
_EXPIRE_SQL = f"""
WITH gone AS (
  UPDATE edges_edge SET status = 'expired', updated_at = %b, version = GREATEST(version + 1, %b)
   WHERE id = ANY(%b)
  RETURNING {", ".join(_COLUMNS)}
)
SELECT gone.*, e.home_team, e.away_team, e.commence_time,
       b.key, b.title, b.is_sharp, b.freshness_seconds
  FROM gone JOIN edges_event e ON e.id = gone.event_id
  LEFT JOIN edges_sportsbook b ON b.id = gone.sportsbook_id
"""


def edges_set_status(edges: Iterable[Edge], status: str, *, now: datetime) -> list[Edge]:
    """Change the edges' status with a version above both their own and the clock's (a
    client keeping the highest version never drops the change). Returns the edges, updated
    in memory too."""
    edges = list(edges)
    if not edges:
        return edges
    floor = version_of(now)
    Edge.objects.filter(pk__in=[e.pk for e in edges]).update(
        status=status, updated_at=now, version=Greatest(F("version") + 1, Value(floor))
    )
    for edge in edges:
        edge.status = status
        edge.version = max(edge.version + 1, floor)
        edge.updated_at = now
    return edges


def store_edges(
    *,
    found: list[finder.FoundEdge],
    market_ids: list[int],
    markets: dict[int, finder.MarketInfo],
    events: dict[int, finder.EventInfo],
    books: dict[int, finder.BookInfo],
    now: datetime,
) -> tuple[list[EdgeRow], list[EdgeRow]]:
    """Upsert what was found, expire what was not found again. Returns (upserted, removed)."""
    found_ids = [f.edge_id for f in found]
    stored = _stored_edges(market_ids, found_ids)
    changed = [
        _edge_row(
            f, markets[f.market_id], events[markets[f.market_id].event_id], books, stored.get(f.edge_id), now
        )
        for f in found
    ]
    upserted = _upsert_edges([edge for edge in changed if edge is not None])
    removed = _expire_not_found(stored, set(found_ids), now)
    return upserted, removed


def _stored_edges(market_ids: list[int], edge_ids: list[str]) -> Stored:
    with binding_cursor() as cursor:
        # in binary: psycopg's C loaders (Django's timestamptz loader for text is pure Python)
        cursor.execute(_STORED_SQL, [market_ids, edge_ids], binary=True)
        return {
            edge_id: (pk, status, discovered, version)
            for edge_id, pk, status, discovered, version in cursor.fetchall()
        }


def _edge_row(
    found: finder.FoundEdge,
    market: finder.MarketInfo,
    event: finder.EventInfo,
    books: dict[int, finder.BookInfo],
    previous: tuple[int, str, datetime, int] | None,
    now: datetime,
) -> EdgeRow | None:
    """The row to write for a found edge, or None when nothing it rests on moved (no write,
    no delta)."""
    status = Edge.Status.STALE if found.stale_after <= now else Edge.Status.ACTIVE
    if previous and previous[1] == status and found.version <= previous[3]:
        return None
    discovered = previous[2] if previous and previous[1] != Edge.Status.EXPIRED else now
    return EdgeRow(
        edge_id=found.edge_id,
        kind=found.kind,
        status=status,
        sport_key=event.sport_key,
        event_id=event.id,
        market_id=found.market_id,
        outcome_id=found.outcome_id,
        sportsbook_id=found.sportsbook_id,
        market_type=market.key,
        player=market.player,
        line=found.line,
        side=found.side,
        best_odds_american=found.best_odds_american,
        best_odds_decimal=found.best_odds_decimal,
        fair_probability=found.fair_probability,
        fair_odds_decimal=_fair_odds(found),
        edge_percentage=found.edge_percentage,
        expected_value_per_dollar=found.expected_value_per_dollar,
        kelly_fraction=found.kelly_fraction,
        devig_method="multiplicative",
        reference=found.reference,
        confidence=found.confidence,
        books_in_consensus=found.books_in_consensus,
        reference_age_seconds=found.reference_age_seconds,
        legs=found.legs,
        middle_low=found.middle_low,
        middle_high=found.middle_high,
        context=_context(event),
        oldest_quote_at=found.oldest_quote_at,
        stale_after=found.stale_after,
        # strictly increasing per edge, so a client keeping the highest version never
        # drops a real change
        version=max(found.version, previous[3] + 1) if previous else found.version,
        updated_at=now,
        expires_at=event.commence_time,
        discovered_at=discovered,
        event=event,
        sportsbook=None if found.sportsbook_id is None else books.get(found.sportsbook_id),
    )


def _fair_odds(found: finder.FoundEdge) -> Decimal | None:
    if not found.fair_probability or found.kind != "positive_ev":
        return None
    return (Decimal(1) / Decimal(repr(found.fair_probability))).quantize(Decimal("0.000001"))


def _context(event: finder.EventInfo) -> dict[str, Any]:
    return {
        "home_team": event.home_team,
        "away_team": event.away_team,
        "matchup": f"{event.away_team} @ {event.home_team}",
        "commence_time": event.commence_time.isoformat(),
    }


def _upsert_edges(rows: list[EdgeRow]) -> list[EdgeRow]:
    """One statement for every changed edge; returns the rows (the deltas serialise them)."""
    if not rows:
        return []
    columns = [list(column) for column in zip(*map(_column_values, rows), strict=True)]
    for index, name in enumerate(_COLUMNS):
        if name in _JSON_COLUMNS:
            columns[index] = [json.dumps(value) for value in columns[index]]
    with binding_cursor() as cursor:
        cursor.execute(_UPSERT_SQL, columns)
    return rows


def _expire_not_found(stored: Stored, found_ids: set[str], now: datetime) -> list[EdgeRow]:
    gone = [
        pk
        for edge_id, (pk, status, _discovered, _version) in stored.items()
        if edge_id not in found_ids and status != Edge.Status.EXPIRED
    ]
    if not gone:
        return []
    with binding_cursor() as cursor:
        cursor.execute(_EXPIRE_SQL, [now, version_of(now), gone], binary=True)
        rows = cursor.fetchall()
    width = len(_COLUMNS)
    expired = []
    for row in rows:
        # in binary, jsonb arrives decoded (json.loads, as JSONField decodes it)
        edge = dict(zip(_COLUMNS, row[:width], strict=True))
        home, away, commence, book_key, book_title, sharp, freshness = row[width:]
        event = finder.EventInfo(edge["event_id"], edge["sport_key"], home, away, commence)
        book = (
            None
            if edge["sportsbook_id"] is None
            else finder.BookInfo(edge["sportsbook_id"], book_key, book_title, sharp, freshness)
        )
        expired.append(EdgeRow(**edge, event=event, sportsbook=book))
    return expired
