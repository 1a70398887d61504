"""Pages of the edges app: the board (the logged-in home page), an event, an edge."""

from __future__ import annotations

import re
from decimal import Decimal

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from betthat.core.errors import ApplicationError
from betthat.core.money import from_minor, to_minor
from betthat.users.http import current_user
from edges import alerts as edge_alerts
from edges import charts, pricing, selectors
from edges.bankroll import viewer_sizing_for
from edges.forms import EdgeAlertForm, EdgeFilterForm
from edges.models import Edge, Sport, Sportsbook

BOARD_ROWS = 100
CURRENCY = "USD"


def _money(amount_minor: int) -> Decimal:
    return from_minor(amount_minor, CURRENCY)


def _row(edge: Edge, sizing: selectors.ViewerSizing) -> dict:
    return {
        "edge": edge,
        "stake": _money(sizing.stake_minor(edge.kelly_fraction)),
        "age": round(selectors.quote_age_seconds(edge=edge)),
    }


@login_required
def board(request):
    """The board. Its inputs show edge % and EV as percents and the page sends them as
    fractions, like the API ("2%" works too); with no sport chosen, the viewer's favourite
    sports are the default filter."""
    favourites = selectors.favourite_sports(user=request.user)
    form = EdgeFilterForm(request.GET or None)
    if form.is_valid():
        filters = form.to_filters(favourite_sports=favourites)
    else:
        filters = selectors.EdgeFilters(sports=favourites)
    edges = list(selectors.search_edges(filters=filters)[:BOARD_ROWS])
    sizing = viewer_sizing_for(user=request.user)
    shown = filters.as_dict()
    return render(
        request,
        "edges/board.html",
        {
            "form": form if form.is_bound else EdgeFilterForm(),
            "errors": form.errors if form.is_bound and not form.is_valid() else None,
            "rows": [_row(e, sizing) for e in edges],
            "filters": shown,
            "favourite_sports": favourites,
            "favourites_applied": bool(filters.sports),
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


_PLAIN_AMOUNT = re.compile(r"[0-9]{1,7}(\.[0-9]{1,2})?")
DEFAULT_TOTAL_MINOR = 10_000
MAX_TOTAL = Decimal("1000000")


def _total_stake_minor(text: str) -> tuple[int, str]:
    """The calculator's total stake in minor units, or the default and an error message.
    Plain decimal notation only ("250" or "250.50"; no exponents, signs or NaN)."""
    text = text.strip()
    if _PLAIN_AMOUNT.fullmatch(text):
        total = Decimal(text)
        if Decimal("0.01") <= total <= MAX_TOTAL:
            return to_minor(total, CURRENCY), ""
    return DEFAULT_TOTAL_MINOR, "Enter a total stake between 0.01 and 1,000,000 with at most two decimals."


@login_required
def edge_detail(request, edge_id: str):
    edge = selectors.edge_get(edge_id=edge_id)
    if edge is None:
        raise Http404("No such edge.")
    total_minor, error = _total_stake_minor(request.GET.get("total", "100"))
    split = None
    legs = edge.legs
    if edge.kind in (Edge.Kind.ARBITRAGE, Edge.Kind.MIDDLE) and legs:
        split = pricing.arbitrage_stakes(total_minor, [leg["price_decimal"] for leg in legs])
        legs = [
            {**leg, "stake": _money(s), "payout": _money(p)}
            for leg, s, p in zip(legs, split.stakes_minor, split.payouts_minor, strict=True)
        ]
    sizing = viewer_sizing_for(user=request.user)
    return render(
        request,
        "edges/edge.html",
        {
            "edge": edge,
            "legs": legs,
            "split": split,
            "total": _money(total_minor),
            "error": error,
            "guaranteed_payout": _money(split.guaranteed_payout_minor) if split else None,
            "guaranteed_profit": _money(split.guaranteed_profit_minor) if split else None,
            "stake": _money(sizing.stake_minor(edge.kelly_fraction)),
        },
    )


@login_required
def alerts(request):
    """The user's edge alerts: the list, a form to add one (the board's "alert me on this
    filter" posts here too), and the latest matches."""
    user = current_user(request)
    form = EdgeAlertForm(request.POST or None)
    if request.method == "POST":
        if form.is_valid():
            try:
                alert = edge_alerts.edge_alert_create(user=user, **form.cleaned_data)
            except ApplicationError as error:
                messages.error(request, error.message)
            else:
                messages.success(
                    request, f"Alert saved: {alert.name}. We will tell you when a new matching edge appears."
                )
                return redirect("edges:alerts")
        else:
            messages.error(
                request,
                "The alert was not saved: "
                + " ".join(f"{name}: {' '.join(errs)}" for name, errs in form.errors.items()),
            )
    return render(
        request,
        "edges/alerts.html",
        {
            "form": form,
            "alerts": selectors.edge_alert_list(user=user),
            "hits": selectors.edge_alert_hits_recent(user=user),
            "sports": Sport.objects.filter(is_active=True),
            "books": Sportsbook.objects.filter(is_active=True),
            "kinds": Edge.Kind.choices,
            "per_hour": edge_alerts.per_hour(),
        },
        status=400 if request.method == "POST" else 200,
    )


@login_required
@require_POST
def alert_toggle(request, alert_id: int):
    user = current_user(request)
    alert = selectors.edge_alert_get(user=user, alert_id=alert_id)
    if alert is None:
        raise Http404("No such alert.")
    edge_alerts.edge_alert_update(user=user, alert_id=alert_id, changes={"is_active": not alert.is_active})
    messages.success(request, f"Alert {'paused' if alert.is_active else 'resumed'}: {alert.name}.")
    return redirect("edges:alerts")


@login_required
@require_POST
def alert_delete(request, alert_id: int):
    try:
        edge_alerts.edge_alert_delete(user=current_user(request), alert_id=alert_id)
    except ApplicationError as error:
        raise Http404("No such alert.") from error
    messages.success(request, "Alert deleted.")
    return redirect("edges:alerts")
