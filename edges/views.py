"""Pages of the edges app: the board (the logged-in home page), an event, an edge."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render

from betthat.core.serializers import minor_to_decimal
from edges import charts, pricing, selectors
from edges.forms import EdgeFilterForm
from edges.models import Edge, Sport, Sportsbook

BOARD_ROWS = 100


def _row(edge: Edge, sizing: selectors.ViewerSizing) -> dict:
    return {
        "edge": edge,
        "stake": minor_to_decimal(sizing.stake_minor(edge.kelly_fraction)),
        "age": round(selectors.quote_age_seconds(edge=edge)),
    }


@login_required
def board(request):
    form = EdgeFilterForm(request.GET or None)
    filters = form.to_filters() if form.is_valid() else selectors.EdgeFilters()
    edges = list(selectors.search_edges(filters=filters)[:BOARD_ROWS])
    sizing = selectors.viewer_sizing(user=request.user)
    return render(
        request,
        "edges/board.html",
        {
            "form": form if form.is_bound else EdgeFilterForm(),
            "errors": form.errors if form.is_bound and not form.is_valid() else None,
            "rows": [_row(e, sizing) for e in edges],
            "filters": filters.as_dict(),
            "sizing": {
                "available_minor": sizing.available_minor,
                "multiplier": pricing.RISK_MULTIPLIERS.get(sizing.risk_tolerance, 0.5),
                "max_kelly": float(sizing.max_kelly_fraction),
                "cap_minor": sizing.cap_minor,
            },
            "sports": Sport.objects.filter(is_active=True),
            "books": Sportsbook.objects.filter(is_active=True),
            "kinds": Edge.Kind.choices,
            "market_types": ["h2h", "spreads", "totals", "player_pass_yds", "player_points"],
        },
    )


@login_required
def event_detail(request, event_id: int):
    event = selectors.event_get(event_id=event_id)
    if event is None:
        raise Http404("No such event.")
    method, reference = selectors.pricing_preferences(user=request.user)
    boards = selectors.event_markets_board(event=event, method=method, reference=reference)
    history = selectors.market_history(event=event)
    sections = []
    for board_ in boards:
        market_history = history.get(board_.market.pk)
        chart = None
        if market_history:
            first = next(iter(market_history["outcomes"].values()))
            chart = charts.line_chart(first["books"])
            chart_title = first["name"]
        else:
            chart_title = ""
        sections.append({"board": board_, "chart": chart, "chart_title": chart_title})
    edges = selectors.search_edges(filters=selectors.EdgeFilters(event_id=event.pk))[:50]
    return render(
        request,
        "edges/event.html",
        {"event": event, "sections": sections, "edges": edges, "method": method, "reference": reference},
    )


@login_required
def edge_detail(request, edge_id: str):
    edge = selectors.edge_get(edge_id=edge_id)
    if edge is None:
        raise Http404("No such edge.")
    total_text = request.GET.get("total", "100")
    error = ""
    try:
        total = Decimal(total_text)
        if total <= 0 or total > Decimal("1000000") or total != total.quantize(Decimal("0.01")):
            raise InvalidOperation
    except (InvalidOperation, ValueError):
        error = "Enter a total stake between 0.01 and 1,000,000 with at most two decimals."
        total = Decimal("100")
    total_minor = int(total * 100)
    split = None
    legs = edge.legs
    if edge.kind in (Edge.Kind.ARBITRAGE, Edge.Kind.MIDDLE) and legs:
        split = pricing.arbitrage_stakes(total_minor, [leg["price_decimal"] for leg in legs])
        legs = [
            {**leg, "stake": minor_to_decimal(s), "payout": minor_to_decimal(p)}
            for leg, s, p in zip(legs, split.stakes_minor, split.payouts_minor, strict=True)
        ]
    sizing = selectors.viewer_sizing(user=request.user)
    return render(
        request,
        "edges/edge.html",
        {
            "edge": edge,
            "legs": legs,
            "split": split,
            "total": minor_to_decimal(total_minor),
            "error": error,
            "guaranteed_payout": minor_to_decimal(split.guaranteed_payout_minor) if split else None,
            "guaranteed_profit": minor_to_decimal(split.guaranteed_profit_minor) if split else None,
            "stake": minor_to_decimal(sizing.stake_minor(edge.kelly_fraction)),
        },
    )
