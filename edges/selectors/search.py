"""Finding edges: the board's filters and orderings, the search query, one edge."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from edges.models import Edge


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
