"""Cards shared into a room: a bet the user placed, or a live edge, as figures at share time.

A bet card never carries the stake: chat cannot read the bettor's social stake setting (the
apps' boundaries keep chat apart from social), so it shows what is safe for everyone, the
selection, price and result. The card links to the bet slip for that price."""

from __future__ import annotations

from typing import Any

from betthat.core.errors import ApplicationError, NotFound
from betthat.users.models import User
from betting import selectors as bet_selectors
from edges import selectors as edge_selectors


def card_for(*, user: User, kind: Any, ref: Any) -> dict[str, Any]:
    if kind == "bet":
        return bet_card(user=user, bet_id=ref)
    if kind == "edge":
        return edge_card(edge_id=ref)
    raise ApplicationError("A card is a bet or an edge.", code="validation_error", details={"field": "share"})


def bet_card(*, user: User, bet_id: Any) -> dict[str, Any]:
    if isinstance(bet_id, bool) or not isinstance(bet_id, int | str) or not str(bet_id).isdigit():
        raise ApplicationError("bet is an id.", code="validation_error", details={"field": "share"})
    bet = bet_selectors.bet_get_for_user(user=user, bet_id=int(bet_id))  # only one's own bets
    legs = list(bet.legs.all())
    first = legs[0] if legs else None
    return {
        "kind": "bet",
        "bet_id": bet.pk,
        "event": str(bet.event) if bet.event_id else "Parlay",
        "selection": (first.outcome.name if first and len(legs) == 1 else f"{len(legs)}-leg parlay"),
        "market": bet.market_type,
        "book": bet.sportsbook.title if bet.sportsbook else "",
        "price_decimal": str(bet.odds_decimal),
        "price_american": bet.odds_american,
        "status": bet.status,
        "result": bet.result,
        "slip_url": (
            f"/bets/slip/?outcome_id={first.outcome_id}&sportsbook={bet.sportsbook.key}"
            if first and len(legs) == 1 and bet.sportsbook_id
            else None
        ),
    }


def edge_card(*, edge_id: Any) -> dict[str, Any]:
    if not isinstance(edge_id, str) or not 1 <= len(edge_id) <= 40:
        raise ApplicationError("edge is an edge id.", code="validation_error", details={"field": "share"})
    edge = edge_selectors.edge_get(edge_id=edge_id)
    if edge is None:
        raise NotFound("No such edge.")
    return {
        "kind": "edge",
        "edge_id": edge.edge_id,
        "edge_kind": edge.kind,
        "event": str(edge.event),
        "selection": edge.side,
        "market": edge.market_type,
        "book": edge.sportsbook.title if edge.sportsbook else "",
        "price_decimal": str(edge.best_odds_decimal),
        "price_american": edge.best_odds_american,
        "fair_decimal": str(edge.fair_odds_decimal) if edge.fair_odds_decimal is not None else None,
        "ev_per_dollar": round(edge.expected_value_per_dollar, 4),
        "slip_url": f"/bets/slip/?edge_id={edge.edge_id}",
    }
