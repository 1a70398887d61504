"""Fan-out of odds and edges to the /ws/odds/ sockets, published after commit through
betthat.core.realtime (the one realtime path) and handed to sockets by each ASGI process's hub.

Topics: `odds.board` gets every edge delta; `odds.event.<id>` gets the edge deltas, quote
updates and status changes of one event. A batch of deltas is one message per topic,
{"at": ..., "deltas": [...]}, rendered by edges/consumers.py once per filter set (the board)
or per socket's versions (events), so a tick of a thousand quote updates costs one publish
per topic, not a thousand.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from betthat.core import realtime

BOARD_GROUP = "odds.board"


def event_group(event_id: int) -> str:
    return f"odds.event.{event_id}"


def _f(value) -> float | None:
    return None if value is None else float(value)


def edge_to_dict(edge) -> dict[str, Any]:
    """The public form of an edge (API, websocket, board rows)."""
    event = edge.event
    return {
        "edge_id": edge.edge_id,
        "kind": edge.kind,
        "status": edge.status,
        "version": edge.version,
        "sport_key": edge.sport_key,
        "event_id": edge.event_id,
        "market_id": edge.market_id,
        "outcome_id": edge.outcome_id,
        "market_type": edge.market_type,
        "player": edge.player,
        "line": _f(edge.line),
        "side": edge.side,
        "sportsbook": edge.sportsbook.key if edge.sportsbook_id else None,
        "sportsbook_title": edge.sportsbook.title if edge.sportsbook_id else None,
        "best_odds_american": edge.best_odds_american,
        "best_odds_decimal": str(edge.best_odds_decimal),
        "fair_probability": edge.fair_probability,
        "fair_odds_decimal": None if edge.fair_odds_decimal is None else str(edge.fair_odds_decimal),
        "edge_percentage": edge.edge_percentage,
        "expected_value_per_dollar": edge.expected_value_per_dollar,
        "kelly_fraction": edge.kelly_fraction,
        "devig_method": edge.devig_method,
        "reference": edge.reference,
        "confidence": edge.confidence,
        "books_in_consensus": edge.books_in_consensus,
        "reference_age_seconds": edge.reference_age_seconds,
        "legs": edge.legs,
        "middle_window": None
        if edge.middle_low is None
        else [float(edge.middle_low), float(edge.middle_high)],
        "context": edge.context,
        "matchup": f"{event.away_team} @ {event.home_team}",
        "commence_time": event.commence_time.isoformat(),
        "oldest_quote_at": edge.oldest_quote_at.isoformat(),
        "oldest_quote_ts": edge.oldest_quote_at.timestamp(),
        "discovered_at": edge.discovered_at.isoformat(),
        "updated_at": edge.updated_at.isoformat(),
        "expires_at": edge.expires_at.isoformat(),
    }


def send_groups(
    groups: dict[str, list[dict[str, Any]]], *, on_commit: bool = True, batch_at: float | None = None
) -> None:
    """One message per topic carrying all its deltas, after commit, through the core's
    batched publish (one Redis pipeline for the batch). `batch_at` is when the batch's ingest
    began (clients and the benchmark measure delivery latency from it)."""
    at = batch_at if batch_at is not None else time.time()
    realtime.publish_many(
        ((topic, {"at": at, "deltas": deltas}) for topic, deltas in groups.items() if deltas),
        on_commit=on_commit,
    )


def edge_groups(
    updated: Iterable,
    removed: Iterable,
    *,
    reason: str = "",
    into: dict[str, list[dict[str, Any]]] | None = None,
) -> dict[str, list[dict[str, Any]]]:
    groups: dict[str, list[dict[str, Any]]] = into if into is not None else defaultdict(list)
    for edge in updated:
        delta = {"type": "edge.updated", "version": edge.version, "edge": edge_to_dict(edge)}
        groups.setdefault(BOARD_GROUP, []).append(delta)
        groups.setdefault(event_group(edge.event_id), []).append(delta)
    for edge in removed:
        delta = {
            "type": "edge.removed",
            "version": edge.version,
            "edge_id": edge.edge_id,
            "event_id": edge.event_id,
            "reason": reason,
            "edge": edge_to_dict(edge),
        }
        groups.setdefault(BOARD_GROUP, []).append(delta)
        groups.setdefault(event_group(edge.event_id), []).append(delta)
    return groups


def edges_deltas(updated: Iterable, removed: Iterable, *, reason: str = "", on_commit: bool = True) -> None:
    send_groups(edge_groups(updated, removed, reason=reason), on_commit=on_commit)


def edges_updated(edges: Iterable) -> None:
    edges_deltas(edges, [])


def edges_removed(edges: Iterable, *, reason: str) -> None:
    edges_deltas([], edges, reason=reason)


def quote_dict(
    *, outcome_id: int, market_id: int, sportsbook: str, price: Decimal, version: int, suspended: bool
) -> dict[str, Any]:
    """A quote as a `quote.updated` delta and an event snapshot carry it."""
    return {
        "outcome_id": outcome_id,
        "market_id": market_id,
        "sportsbook": sportsbook,
        "price_decimal": str(price),
        "version": version,
        "is_suspended": suspended,
    }


def quote_groups(quotes_by_event: dict[int, list[dict[str, Any]]]) -> dict[str, list[dict[str, Any]]]:
    """`quote.updated` deltas, for each event's group."""
    return {
        event_group(event_id): [
            {"type": "quote.updated", "version": q["version"], "quote": q} for q in quotes
        ]
        for event_id, quotes in quotes_by_event.items()
    }


def event_status_changed(event) -> None:
    send_groups(
        {
            event_group(event.pk): [
                {
                    "type": "event.status",
                    "version": int(event.updated_at.timestamp() * 1_000_000),
                    "event_id": event.pk,
                    "status": event.status,
                    "home_score": event.home_score,
                    "away_score": event.away_score,
                }
            ]
        }
    )
