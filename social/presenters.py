"""A public bet as others see it: one dict for the page, the API and the websocket, so
the three surfaces cannot disagree about what is shown (the stake rules live here once)."""

from __future__ import annotations

from datetime import datetime
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
    return leg_item(
        attributes=attributes,
        outcome_name=attributes.get("outcome_name") or leg.outcome.name,
        market_key=attributes.get("market_key") or leg.market.key,
        point=leg.point,
        event_id=leg.event_id,
        matchup=attributes.get("matchup") or f"{leg.event.away_team} @ {leg.event.home_team}",
        price_decimal=leg.price_decimal,
    )


def leg_item(
    *,
    attributes: dict,
    outcome_name: str,
    market_key: str,
    point: Decimal | None,
    event_id: int,
    matchup: str,
    price_decimal: Decimal,
) -> dict:
    """A leg as shown, from its values (`leg_description` for a loaded leg; the feed's
    statement reads the same values in SQL)."""
    if point is not None and market_key.startswith(("totals", "player_", "alternate_totals")):
        selection = f"{outcome_name} {point.normalize():f}"
    elif point is not None:
        selection = f"{outcome_name} {_point(point)}"
    else:
        selection = outcome_name
    player = attributes.get("player") or ""
    if player and player not in selection:
        selection = f"{player} {selection}"
    return {
        "event_id": event_id,
        "matchup": matchup,
        "market": market_key,
        "selection": selection,
        "price_decimal": f"{price_decimal.normalize():f}",
    }


def market_text(bet) -> str:
    """The market line of the record: each leg as "matchup: selection (market)"."""
    return " + ".join(
        f"{leg['matchup']}: {leg['selection']} ({leg['market']})"
        for leg in (leg_description(leg) for leg in bet.legs.all())
    )


def public_bet_item(public_bet: PublicBet, bet, *, handle: str, profile_mode: str) -> dict:
    """What may be shown of `public_bet` (with its `bet`, the bet's event and legs loaded)."""
    event = bet.event
    return card_item(
        public_bet_id=public_bet.pk,
        bet_id=public_bet.bet_id,
        handle=handle,
        profile_mode=profile_mode,
        stake_mode=public_bet.stake_mode,
        status=public_bet.status,
        result=public_bet.result,
        profit_units=public_bet.profit_units,
        stake_minor=public_bet.stake_minor,
        currency=public_bet.currency,
        net_profit_minor=public_bet.net_profit_minor,
        placed_at=public_bet.placed_at,
        visible_from=public_bet.visible_from,
        settled_at=public_bet.settled_at,
        kind=bet.kind,
        sport_key=bet.sport_key,
        market_type=bet.market_type,
        sportsbook=bet.sportsbook_id,
        odds_decimal=bet.odds_decimal,
        odds_american=bet.odds_american,
        clv_percent=bet.clv_percent,
        commence_time=event.commence_time if event is not None else None,
        legs=[leg_description(leg) for leg in bet.legs.all()],
    )


def card_item(
    *,
    public_bet_id: int,
    bet_id: int,
    handle: str,
    profile_mode: str,
    stake_mode: str,
    status: str,
    result: str,
    profit_units: Decimal | None,
    stake_minor: int,
    currency: str,
    net_profit_minor: int | None,
    placed_at: datetime,
    visible_from: datetime,
    settled_at: datetime | None,
    kind: str,
    sport_key: str,
    market_type: str,
    sportsbook: str,
    odds_decimal: Decimal,
    odds_american: int,
    clv_percent: Decimal | None,
    commence_time: datetime | None,
    legs: list[dict],
) -> dict:
    """What may be shown of a public bet, from its values. The stake mode shown is the
    stricter of the bet's and the profile's; money other than the stake (profit, return)
    only when exact; `profit_units` and `result` are stake-free for every mode."""
    mode = stricter(stake_mode, profile_mode)
    is_settled = status in ("settled", "void")
    # Units from the price and the result only (`PublicBet.profit_units`): net profit / stake
    # would carry the payout's rounding to the cent, and with it the stake.
    units = None
    if is_settled and profit_units is not None:
        units = f"{profit_units.quantize(UNITS)}"
    item = {
        "id": public_bet_id,
        "bet_id": bet_id,
        "handle": handle,
        "kind": kind,
        "sport_key": sport_key,
        "event": legs[0]["matchup"] if len(legs) == 1 else f"{len(legs)}-leg parlay",
        "commence_time": _iso(commence_time),
        "market_type": market_type,
        "selection": " + ".join(leg["selection"] for leg in legs),
        "legs": legs,
        "sportsbook": sportsbook,
        "odds_decimal": f"{odds_decimal.normalize():f}",
        "odds_american": f"{odds_american:+d}",
        "stake": stake_public(stake_minor=stake_minor, currency=currency, mode=mode),
        "status": status,
        "result": result,
        "profit_units": units,
        "net_profit": None,
        "clv_percent": None if clv_percent is None else f"{clv_percent}",
        "placed_at": _iso(placed_at),
        "visible_from": _iso(visible_from),
        "settled_at": _iso(settled_at),
    }
    if mode == "exact" and is_settled and net_profit_minor is not None:
        item["net_profit"] = {
            "amount": f"{(Decimal(net_profit_minor) / 100).quantize(Decimal('0.01'))}",
            "currency": currency,
        }
    return item
