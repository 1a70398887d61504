"""The bet slip, checked and priced before any money moves: its shape (legs, one book,
distinct markets), each market open, each quote current and fresh, the combined price, and
the house's caps on price and payout. Reads only; every refusal is an `ApplicationError`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from django.conf import settings
from django.utils import timezone

from betthat.core.errors import ApplicationError
from betting import grading
from betting.models import Bet, BetLeg, SameGameQuote
from edges.models import Event, Outcome
from edges.selectors import outcomes_for_placement, quote_price_current

PRICE_POLICIES = ("none", "better", "any")
PricePolicy = Literal["none", "better", "any"]


@dataclass(frozen=True)
class LegRequest:
    outcome_id: int
    sportsbook: str
    odds_decimal: Decimal


@dataclass
class PricedLeg:
    outcome: Outcome
    requested: Decimal
    price: Decimal
    version: int


@dataclass
class PricedSlip:
    """A slip that passed every check: what the bet will be written from."""

    book: str
    legs: list[PricedLeg]
    price: Decimal
    kind: str

    @property
    def event_ids(self) -> set[int]:
        return {leg.outcome.market.event_id for leg in self.legs}

    @property
    def market_type(self) -> str:
        if self.kind != Bet.Kind.STRAIGHT:
            return "parlay"
        return grading.market_type_of(self.legs[0].outcome.market.key)


def max_legs() -> int:
    return int(settings.BETTING_MAX_LEGS)


def check_price_policy(policy: str) -> None:
    if policy not in PRICE_POLICIES:
        raise ApplicationError(
            "accept_price_change is none, better or any.",
            code="validation_error",
            details={"accept_price_change": policy},
        )


def load_outcomes(legs: Sequence[LegRequest]) -> dict[int, Outcome]:
    if not legs:
        raise ApplicationError("A bet has at least one leg.", code="invalid_parlay")
    ids = [leg.outcome_id for leg in legs]
    outcomes = outcomes_for_placement(outcome_ids=ids, sportsbook_key=legs[0].sportsbook)
    missing = [i for i in ids if i not in outcomes]
    if missing:
        raise ApplicationError("No such outcome.", code="validation_error", details={"outcome_id": missing})
    return outcomes


def check_shape(legs: Sequence[LegRequest], outcomes: dict[int, Outcome]) -> str:
    """The slip's shape; returns the sportsbook."""
    if not legs:
        raise ApplicationError("A bet has at least one leg.", code="invalid_parlay")
    if len(legs) > max_legs():
        raise ApplicationError(
            f"A parlay has at most {max_legs()} legs.", code="invalid_parlay", details={"legs": len(legs)}
        )
    books = {leg.sportsbook for leg in legs}
    if len(books) != 1:
        raise ApplicationError(
            "Every leg of a parlay is placed at the same sportsbook.",
            code="invalid_parlay",
            details={"sportsbooks": sorted(books)},
        )
    markets = [outcomes[leg.outcome_id].market_id for leg in legs]
    if len(set(markets)) != len(markets):
        raise ApplicationError("Each leg of a parlay comes from a different market.", code="invalid_parlay")
    families = [
        (
            outcomes[leg.outcome_id].market.event_id,
            outcomes[leg.outcome_id].market.key,
            outcomes[leg.outcome_id].market.player,
        )
        for leg in legs
    ]
    if len(set(families)) != len(families):
        raise ApplicationError("Two lines of the same market cannot be combined.", code="invalid_parlay")
    return books.pop()


def _check_open(outcome: Outcome, now: datetime) -> None:
    market = outcome.market
    event = market.event
    if event.status != Event.Status.SCHEDULED or event.commence_time <= now or market.is_suspended:
        raise ApplicationError(
            "This market is closed.",
            code="market_closed",
            status=409,
            details={"outcome_id": outcome.pk, "event_status": event.status},
        )


def _check_age(
    last_update: datetime | None, freshness: int | None, *, book: str, now: datetime, details: dict[str, Any]
) -> None:
    """One stale-price rule for every price a bet can take (a leg's quote, a same-game
    parlay's price): older than the book's freshness is no price to take (the feed may have
    stopped while the world moved on)."""
    if freshness is None:
        return  # no such book: the price lookup refuses it as closed
    if last_update is None:
        age = None
    else:
        age = now - last_update
        if age <= timedelta(seconds=int(freshness)):
            return
    raise ApplicationError(
        f"{book}'s price on this selection is out of date.",
        code="stale_price",
        status=409,
        details={
            **details,
            "sportsbook": book,
            "age_seconds": int(age.total_seconds()) if age is not None else None,
            "freshness_seconds": int(freshness),
        },
    )


def _check_fresh(outcome: Outcome, book: str, now: datetime) -> None:
    last_update: datetime | None = getattr(outcome, "quote_last_update", None)
    if last_update is None:
        return  # no quote row: the price lookup refuses it as closed
    freshness = getattr(outcome, "book_freshness_seconds", None)
    _check_age(last_update, freshness, book=book, now=now, details={"outcome_id": outcome.pk})


def _price_moved(requested: Decimal, current: Decimal, policy: str) -> bool:
    if policy == "any":
        return False
    if policy == "better":
        return current < requested
    return current != requested


def price_legs(
    legs: Sequence[LegRequest], outcomes: dict[int, Outcome], book: str, policy: str
) -> list[PricedLeg]:
    now = timezone.now()
    priced = []
    for leg in legs:
        outcome = outcomes[leg.outcome_id]
        _check_open(outcome, now)
        quote = quote_price_current(outcome_id=outcome.pk, sportsbook_key=book)
        if quote is None:
            raise ApplicationError(
                f"{book} is not offering a price on this outcome.",
                code="market_closed",
                status=409,
                details={"outcome_id": outcome.pk, "sportsbook": book},
            )
        _check_fresh(outcome, book, now)
        priced.append(PricedLeg(outcome, leg.odds_decimal, quote[0], quote[1]))
    moved = [p for p in priced if _price_moved(p.requested, p.price, policy)]
    if moved:
        raise ApplicationError(
            "The price has changed.",
            code="price_changed",
            status=409,
            details={
                "accept_price_change": policy,
                "legs": [
                    {"outcome_id": p.outcome.pk, "requested": str(p.requested), "current": str(p.price)}
                    for p in priced
                ],
                "current_price": str(priced[0].price) if len(priced) == 1 else None,
            },
        )
    return priced


def combined_price(priced: list[PricedLeg], book: str, now: datetime | None = None) -> tuple[Decimal, str]:
    """The bet's price and kind. Legs of one game need the venue's same-game price, and
    that price must be fresh (the same rule as each leg's quote)."""
    now = now or timezone.now()
    if len(priced) == 1:
        return priced[0].price, Bet.Kind.STRAIGHT
    by_event: dict[int, list[PricedLeg]] = {}
    for p in priced:
        by_event.setdefault(p.outcome.market.event_id, []).append(p)
    parts: list[Decimal] = []
    has_same_game = False
    for event_id, group in by_event.items():
        if len(group) == 1:
            parts.append(group[0].price)
            continue
        has_same_game = True
        key = SameGameQuote.key_for(p.outcome.pk for p in group)
        quote = SameGameQuote.objects.filter(sportsbook_id=book, event_id=event_id, selection_key=key).first()
        if quote is None:
            raise ApplicationError(
                f"{book} does not offer this same-game parlay.",
                code="sgp_not_offered",
                details={"event_id": event_id, "outcome_ids": [p.outcome.pk for p in group]},
            )
        # the venue's same-game price is a price like any other: it goes stale with its book
        _check_age(
            quote.updated_at,
            getattr(group[0].outcome, "book_freshness_seconds", None),
            book=book,
            now=now,
            details={"event_id": event_id, "outcome_ids": [p.outcome.pk for p in group]},
        )
        parts.append(quote.price_decimal)
    price = grading.combined_price(parts)
    if price <= 1:
        raise ApplicationError("This combination has no price.", code="invalid_parlay")
    return price, Bet.Kind.SAME_GAME if has_same_game else Bet.Kind.PARLAY


def price_slip(*, legs: Sequence[LegRequest], policy: str) -> PricedSlip:
    """Every check of the slip before money moves; returns what the bet is written from."""
    check_price_policy(policy)
    outcomes = load_outcomes(legs)
    book = check_shape(legs, outcomes)
    priced = price_legs(legs, outcomes, book, policy)
    price, kind = combined_price(priced, book)
    return PricedSlip(book=book, legs=priced, price=price, kind=kind)


def check_house_caps(*, price: Decimal, potential_return_minor: int) -> None:
    """The house takes no price above the maximum and no bet that could return more than
    the maximum payout (settings BETTING_MAX_PRICE_DECIMAL, BETTING_MAX_PAYOUT_MINOR)."""
    max_price = Decimal(str(settings.BETTING_MAX_PRICE_DECIMAL))
    if price > max_price:
        raise ApplicationError(
            f"The most we take is a price of {max_price}.",
            code="max_price_exceeded",
            status=409,
            details={"price_decimal": str(price), "max_price_decimal": str(max_price)},
        )
    max_payout = int(settings.BETTING_MAX_PAYOUT_MINOR)
    if potential_return_minor > max_payout:
        raise ApplicationError(
            "This bet could return more than the most a single bet may pay: lower the stake.",
            code="max_payout_exceeded",
            status=409,
            details={"potential_return_minor": potential_return_minor, "max_payout_minor": max_payout},
        )


def leg_type(kind: str, outcome: Outcome) -> str:
    if grading.market_type_of(outcome.market.key) == "prop" and kind == Bet.Kind.STRAIGHT:
        return str(BetLeg.LegType.PROP)
    types: dict[str, str] = {
        Bet.Kind.STRAIGHT.value: BetLeg.LegType.STRAIGHT.value,
        Bet.Kind.PARLAY.value: BetLeg.LegType.PARLAY.value,
        Bet.Kind.SAME_GAME.value: BetLeg.LegType.SAME_GAME.value,
    }
    return types[str(kind)]


def leg_attributes(outcome: Outcome) -> dict[str, Any]:
    market = outcome.market
    return {
        "market_key": market.key,
        "outcome_name": outcome.name,
        "player": market.player,
        "period": market.period,
        "alternate_line": market.key.startswith("alternate_"),
        "matchup": f"{market.event.away_team} @ {market.event.home_team}",
    }
