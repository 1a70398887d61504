"""Edges written: the found edges upserted by their stable id (only when something they
rest on moved), the ones not found again expired, and the one way an edge changes status."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db.models import F, Q, Value
from django.db.models.functions import Greatest

from edges import finder
from edges.ingest.normalise import version_of
from edges.models import Edge, Event, Sportsbook

# edge_id -> (pk, status, discovered_at, version) of the stored edges a recompute may touch
Stored = dict[str, tuple[int, str, datetime, int]]

_EDGE_FIELDS = [
    "kind",
    "status",
    "sport_key",
    "event",
    "market",
    "outcome",
    "sportsbook",
    "market_type",
    "player",
    "line",
    "side",
    "best_odds_american",
    "best_odds_decimal",
    "fair_probability",
    "fair_odds_decimal",
    "edge_percentage",
    "expected_value_per_dollar",
    "kelly_fraction",
    "devig_method",
    "reference",
    "confidence",
    "books_in_consensus",
    "reference_age_seconds",
    "legs",
    "middle_low",
    "middle_high",
    "context",
    "oldest_quote_at",
    "stale_after",
    "version",
    "updated_at",
    "expires_at",
    "discovered_at",
]


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
    now: datetime,
) -> tuple[list[Edge], list[Edge]]:
    """Upsert what was found, expire what was not found again. Returns (upserted, removed)."""
    stored = _stored_edges(market_ids, [f.edge_id for f in found])
    changed = [
        _edge_row(f, markets[f.market_id], events[markets[f.market_id].event_id], stored.get(f.edge_id), now)
        for f in found
    ]
    upserted = _upsert_edges([edge for edge in changed if edge is not None])
    removed = _expire_not_found(stored, {f.edge_id for f in found}, now)
    return upserted, removed


def _stored_edges(market_ids: list[int], edge_ids: list[str]) -> Stored:
    return {
        edge_id: (pk, status, discovered, version)
        for edge_id, pk, status, discovered, version in Edge.objects.filter(
            Q(market_id__in=market_ids, status__in=[Edge.Status.ACTIVE, Edge.Status.STALE])
            | Q(edge_id__in=edge_ids)
        ).values_list("edge_id", "id", "status", "discovered_at", "version")
    }


def _edge_row(
    found: finder.FoundEdge,
    market: finder.MarketInfo,
    event: finder.EventInfo,
    previous: tuple[int, str, datetime, int] | None,
    now: datetime,
) -> Edge | None:
    """The row to write for a found edge, or None when nothing it rests on moved (no write,
    no delta)."""
    status = Edge.Status.STALE if found.stale_after <= now else Edge.Status.ACTIVE
    if previous and previous[1] == status and found.version <= previous[3]:
        return None
    discovered = previous[2] if previous and previous[1] != Edge.Status.EXPIRED else now
    return Edge(
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
        discovered_at=discovered,
        updated_at=now,
        expires_at=event.commence_time,
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


def _upsert_edges(rows: list[Edge]) -> list[Edge]:
    """One statement for every changed edge; the rows come back with their event and book
    attached (the deltas serialise them)."""
    if not rows:
        return []
    Edge.objects.bulk_create(
        rows, update_conflicts=True, unique_fields=["edge_id"], update_fields=_EDGE_FIELDS
    )
    event_objs = Event.objects.in_bulk({row.event_id for row in rows})
    book_objs = Sportsbook.objects.in_bulk()
    for row in rows:
        row.event = event_objs[row.event_id]
        row.sportsbook = book_objs.get(row.sportsbook_id)
    return rows


def _expire_not_found(stored: Stored, found_ids: set[str], now: datetime) -> list[Edge]:
    gone = [
        pk
        for edge_id, (pk, status, _discovered, _version) in stored.items()
        if edge_id not in found_ids and status != Edge.Status.EXPIRED
    ]
    if not gone:
        return []
    edges = Edge.objects.filter(pk__in=gone).select_related("event", "sportsbook")
    return edges_set_status(edges, Edge.Status.EXPIRED, now=now)
