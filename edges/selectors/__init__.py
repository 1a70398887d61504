"""Reads of the edges app, one module per subject; import them from `edges.selectors`
(every public name is re-exported here):

- `quotes`: the hot market snapshots, a quote's current price, fair prices;
- `search`: the board's filters and orderings, the edge search, one edge;
- `events`: events, the per-market board grid, odds history;
- `viewer`: stake sizing, favourite sports and pricing preferences from the viewer's account;
- `for_betting`: the reads the betting app makes of edges' data.
"""

from __future__ import annotations

from edges.selectors.alerts import edge_alert_get, edge_alert_hits_recent, edge_alert_list
from edges.selectors.events import (
    MarketBoard,
    event_get,
    event_list,
    event_markets_board,
    market_history,
    quote_age_seconds,
)
from edges.selectors.for_betting import (
    edge_slip_target,
    edge_snapshot,
    moneyline_quotes_open,
    outcome_for_slip,
    outcomes_for_placement,
    positive_ev_edges_open,
    quote_prices_by_book,
    quote_prices_closing,
    sportsbook_exists,
)
from edges.selectors.quotes import (
    event_quote_rows,
    fair_probability_for_outcome,
    market_quotes,
    market_snapshot_build,
    market_snapshot_current,
    quote_price_current,
    sharp_book_keys,
    snapshot_from_rows,
    snapshot_of,
)
from edges.selectors.search import (
    ORDERINGS,
    EdgeFilters,
    edge_get,
    edge_matches,
    get_active_edges,
    get_top_edges,
    search_edges,
)
from edges.selectors.viewer import (
    MAX_FAVOURITE_SPORTS,
    ViewerSizing,
    favourite_sports,
    pricing_preferences,
    viewer_sizing,
)

__all__ = [
    "MAX_FAVOURITE_SPORTS",
    "ORDERINGS",
    "EdgeFilters",
    "MarketBoard",
    "ViewerSizing",
    "edge_alert_get",
    "edge_alert_hits_recent",
    "edge_alert_list",
    "edge_get",
    "edge_matches",
    "edge_slip_target",
    "edge_snapshot",
    "event_get",
    "event_list",
    "event_markets_board",
    "event_quote_rows",
    "fair_probability_for_outcome",
    "favourite_sports",
    "get_active_edges",
    "get_top_edges",
    "market_history",
    "market_quotes",
    "market_snapshot_build",
    "market_snapshot_current",
    "moneyline_quotes_open",
    "outcome_for_slip",
    "outcomes_for_placement",
    "positive_ev_edges_open",
    "pricing_preferences",
    "quote_age_seconds",
    "quote_price_current",
    "quote_prices_by_book",
    "quote_prices_closing",
    "search_edges",
    "sharp_book_keys",
    "snapshot_from_rows",
    "snapshot_of",
    "sportsbook_exists",
    "viewer_sizing",
]
