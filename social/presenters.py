"""A public bet as others see it: one dict for the page, the API and the websocket, so
the three surfaces cannot disagree about what is shown (the stake rules live here once)."""

from __future__ import annotations

from decimal import Decimal

from social.models import PublicBet
from social.visibility import stake_public, stricter

UNITS = Decimal("0.0001")


def _iso(value) -> str | None:
    return None if value is None else value.isoformat()


def _point(value) -> str:
    if value is None:
        return ""
    text = f"{value.normalize():f}"
    return text if text.startswith("-") else f"+{text}"


def leg_description(leg) -> dict:
    attributes = leg.attributes or {}
    outcome = attributes.get("outcome_name") or leg.outcome.name
    market_key = attributes.get("market_key") or leg.market.key
    point = leg.point
    if point is not None and market_key.startswith(("totals", "player_", "alternate_totals")):
        selection = f"{outcome} {point.normalize():f}"
    elif point is not None:
        selection = f"{outcome} {_point(point)}"
    else:
        selection = outcome
    player = attributes.get("player") or ""
    if player and player not in selection:
        selection = f"{player} {selection}"
    matchup = attributes.get("matchup") or f"{leg.event.away_team} @ {leg.event.home_team}"
    return {
        "event_id": leg.event_id,
        "matchup": matchup,
        "market": market_key,
        "selection": selection,
        "price_decimal": f"{leg.price_decimal.normalize():f}",
    }


def market_text(bet) -> str:
    """The market line of the record: each leg as "matchup: selection (market)"."""
    return " + ".join(
        f"{leg['matchup']}: {leg['selection']} ({leg['market']})"
        for leg in (leg_description(leg) for leg in bet.legs.all())
    )


def public_bet_item(public_bet: PublicBet, bet, *, handle: str, profile_mode: str) -> dict:
    """What may be shown of `public_bet`. The stake mode shown is the stricter of the
    bet's and the profile's; money other than the stake (profit, return) only when exact;
    `profit_units` and `result` are stake-free for every mode."""
    mode = stricter(public_bet.stake_mode, profile_mode)
    legs = [leg_description(leg) for leg in bet.legs.all()]
    event = bet.event
    is_settled = public_bet.status in ("settled", "void")
    # Units from the price and the result only (`PublicBet.profit_units`): net profit / stake
    # would carry the payout's rounding to the cent, and with it the stake.
    units = None
    if is_settled and public_bet.profit_units is not None:
        units = f"{public_bet.profit_units.quantize(UNITS)}"
    item = {
        "id": public_bet.pk,
        "bet_id": public_bet.bet_id,
        "handle": handle,
        "kind": bet.kind,
        "sport_key": bet.sport_key,
        "event": legs[0]["matchup"] if len(legs) == 1 else f"{len(legs)}-leg parlay",
        "commence_time": _iso(event.commence_time) if event is not None else None,
        "market_type": bet.market_type,
        "selection": " + ".join(leg["selection"] for leg in legs),
        "legs": legs,
        "sportsbook": bet.sportsbook_id,
        "odds_decimal": f"{bet.odds_decimal.normalize():f}",
        "odds_american": f"{bet.odds_american:+d}",
        "stake": stake_public(stake_minor=public_bet.stake_minor, currency=public_bet.currency, mode=mode),
        "status": public_bet.status,
        "result": public_bet.result,
        "profit_units": units,
        "net_profit": None,
        "clv_percent": None if bet.clv_percent is None else f"{bet.clv_percent}",
        "placed_at": _iso(public_bet.placed_at),
        "visible_from": _iso(public_bet.visible_from),
        "settled_at": _iso(public_bet.settled_at),
    }
    if mode == "exact" and is_settled and public_bet.net_profit_minor is not None:
        item["net_profit"] = {
            "amount": f"{(Decimal(public_bet.net_profit_minor) / 100).quantize(Decimal('0.01'))}",
            "currency": public_bet.currency,
        }
    return item
