"""Reads of the betting app, always scoped to the requesting user."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from betthat.core.errors import ApplicationError, NotFound
from betthat.users.models import User
from betting import grading
from betting.models import Bet, BetLeg, LimitChange, ManualSettlement
from betting.services.limits import limit_headroom, user_zone
from betting.statistics import BetRow, bet_statistics
from edges import pricing
from edges.models import Event
from edges.selectors import (
    fair_probability_for_outcome,
    outcome_for_slip,
    quote_price_current,
    sportsbook_exists,
)
from wallet.selectors import wallet_balances_for_user

MAX_ID = 2**63 - 1  # ids are bigints: a larger number names nothing

STATUS_FILTERS: dict[str, list[str]] = {
    "open": [Bet.Status.PENDING],
    "settled": [Bet.Status.SETTLED, Bet.Status.VOID],
    **{status.value: [status.value] for status in Bet.Status},
}


@dataclass(frozen=True)
class BetFilters:
    status: str = ""
    sport: str = ""
    date_from: date | None = None
    date_to: date | None = None


def _legs_prefetch() -> Prefetch:
    return Prefetch(
        "legs",
        queryset=BetLeg.objects.select_related("event", "market", "outcome").order_by("position"),
    )


def bet_list_for_user(*, user: User, filters: BetFilters | None = None) -> QuerySet[Bet]:
    filters = filters or BetFilters()
    queryset = (
        Bet.objects.filter(user_id=user.pk)
        .select_related("sportsbook", "event")
        .prefetch_related(_legs_prefetch())
    )
    if filters.status:
        if filters.status not in STATUS_FILTERS:
            raise ApplicationError(
                "Unknown status filter.", code="validation_error", details={"status": filters.status}
            )
        queryset = queryset.filter(status__in=STATUS_FILTERS[filters.status])
    if filters.sport:
        queryset = queryset.filter(sport_key=filters.sport)
    tz = user_zone(user)
    if filters.date_from and filters.date_from > date.min:
        queryset = queryset.filter(placed_at__gte=_local_moment(filters.date_from, time.min, tz))
    if filters.date_to and filters.date_to < date.max:
        queryset = queryset.filter(placed_at__lte=_local_moment(filters.date_to, time.max, tz))
    return queryset.order_by("-placed_at", "-id")


def _local_moment(day: date, at: time, tz: ZoneInfo) -> datetime:
    """`day` at `at` in the user's zone, in UTC; days at the ends of the calendar (where the
    zone's offset would leave it) are clamped to a day inside it."""
    day = min(max(day, date.min + timedelta(days=2)), date.max - timedelta(days=2))
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def bet_get_by_idempotency_key(*, user: User, key: str) -> Bet | None:
    return Bet.objects.filter(user_id=user.pk, idempotency_key=key).prefetch_related(_legs_prefetch()).first()


def bet_get_for_user(*, user: User, bet_id: int) -> Bet:
    if not 0 < bet_id <= MAX_ID:
        raise NotFound("No such bet.")
    bet = (
        Bet.objects.filter(user_id=user.pk, pk=bet_id)
        .select_related("sportsbook", "event")
        .prefetch_related(_legs_prefetch())
        .first()
    )
    if bet is None:
        raise NotFound("No such bet.")
    return bet


def _bet_rows(bets: QuerySet[Bet]) -> list[BetRow]:
    """The `BetRow` of each bet, for the statistics. The sportsbook FK uses to_field="key",
    so its column holds the book's key (django-stubs types every `_id` as the primary key's int)."""
    rows = bets.values_list(
        "status",
        "result",
        "stake_minor",
        "odds_decimal",
        "net_profit_minor",
        "clv_percent",
        "sport_key",
        "sportsbook_id",
        "market_type",
        "placed_at",
    )
    return [
        BetRow(status, result, stake, odds, net, clv, sport, str(book), market, placed)
        for status, result, stake, odds, net, clv, sport, book, market, placed in rows.iterator(
            chunk_size=2000
        )
    ]


def _rows_for(user: User) -> list[BetRow]:
    # A bet the venue rejected (or still being placed) was never on: it is no part of the record.
    placed = Bet.objects.filter(user_id=user.pk).exclude(status__in=[Bet.Status.PLACING, Bet.Status.REJECTED])
    return _bet_rows(placed)


def get_user_bet_statistics(*, user: User) -> dict:
    """The user's record: counts, staked, profit, ROI, win rate, average odds and CLV, the
    share that beat the close, overall and by sport, book, market type and month."""
    return bet_statistics(_rows_for(user), timezone_name=user.timezone)


def bet_series_for_user(*, user: User) -> dict:
    """Points for the charts: cumulative profit by settlement and CLV per bet, in time order."""
    settled = (
        Bet.objects.filter(user_id=user.pk, status__in=[Bet.Status.SETTLED, Bet.Status.VOID])
        .order_by("settled_at", "id")
        .values_list("settled_at", "net_profit_minor")
    )
    profit = []
    running = 0
    for when, net in settled:
        running += net or 0
        profit.append((when, running))
    clv = list(
        Bet.objects.filter(user_id=user.pk, clv_percent__isnull=False)
        .order_by("placed_at", "id")
        .values_list("placed_at", "clv_percent")
    )
    return {"profit": profit, "clv": clv}


def bet_recommendation(*, user: User, outcome_id: int, sportsbook: str, currency: str = "USD") -> dict:
    """What the slip shows: the book's price, the fair price, the Kelly stake and the room
    left under the limits."""
    outcome = outcome_for_slip(outcome_id=outcome_id) if 0 < outcome_id <= MAX_ID else None
    if outcome is None:
        raise NotFound("No such outcome.", details={"outcome_id": outcome_id})
    if not sportsbook_exists(sportsbook_key=sportsbook):
        raise NotFound("No such sportsbook.", details={"sportsbook": sportsbook})
    event = outcome.market.event
    is_open = (
        event.status == Event.Status.SCHEDULED
        and event.commence_time > timezone.now()
        and not outcome.market.is_suspended
    )
    quote = quote_price_current(outcome_id=outcome_id, sportsbook_key=sportsbook) if is_open else None
    method, reference = _pricing_preferences(user)
    try:
        fair = fair_probability_for_outcome(outcome_id=outcome_id, method=method, reference=reference)
    except pricing.PricingError:
        fair = None
    headroom = limit_headroom(user=user, currency=currency)
    balances = wallet_balances_for_user(user=user, currency=currency)
    price = quote[0] if quote else None
    kelly = pricing.kelly_fraction(fair, price) if (fair is not None and price is not None) else 0.0
    stake = pricing.recommended_stake_minor(
        available_minor=balances.available_minor,
        kelly_fraction=kelly,
        risk_tolerance=user.risk_tolerance,
        max_kelly_fraction=user.max_kelly_fraction,
        cap_minor=headroom.stake_cap_minor,
    )
    market = outcome.market
    return {
        "outcome_id": outcome.pk,
        "outcome": outcome.name,
        "point": outcome.point if outcome.point is not None else market.point,
        "market_key": market.key,
        "market_type": grading.market_type_of(market.key),
        "player": market.player,
        "event_id": market.event_id,
        "matchup": f"{market.event.away_team} @ {market.event.home_team}",
        "commence_time": market.event.commence_time,
        "sport_key": market.event.sport.key,
        "sportsbook": sportsbook,
        "is_open": price is not None,
        "price_decimal": price,
        "price_american": pricing.decimal_to_american(price) if price else None,
        "quote_version": quote[1] if quote else None,
        "fair_probability": None if fair is None else Decimal(repr(fair)).quantize(Decimal("0.000001")),
        "fair_odds_decimal": None if not fair else Decimal(repr(1 / fair)).quantize(Decimal("0.0001")),
        "expected_value_per_dollar": None
        if (fair is None or price is None)
        else Decimal(repr(pricing.expected_value_per_dollar(fair, price))).quantize(Decimal("0.000001")),
        "kelly_fraction": Decimal(repr(kelly)).quantize(Decimal("0.000001")),
        "recommended_stake_minor": stake,
        "auto_kelly_sizing": user.auto_kelly_sizing,
        "available_minor": balances.available_minor,
        "currency": currency,
        "headroom": headroom.as_dict(),
    }


def _pricing_preferences(user: User) -> tuple[str, str]:
    """The user's de-vig method and reference line; the defaults for anything malformed."""
    preferences = user.preferences if isinstance(user.preferences, dict) else {}
    chosen = preferences.get("pricing")
    chosen = chosen if isinstance(chosen, dict) else {}
    method = chosen.get("devig_method")
    reference = chosen.get("reference")
    return (
        method if method in pricing.DEVIG_METHODS else "multiplicative",
        reference if reference in pricing.REFERENCES else "sharp",
    )


def limit_changes_pending_for_user(*, user: User) -> QuerySet[LimitChange]:
    return LimitChange.objects.filter(
        user_id=user.pk, applied_at__isnull=True, cancelled_at__isnull=True, effective_at__gt=timezone.now()
    ).order_by("effective_at")


# --- used by social ---
# Reads for public profiles. They are not scoped to a requesting user: the social app
# passes only the ids of bets that its own visibility rules let the viewer see.


_PUBLIC_BET_FIELDS = (
    "id", "user_id", "kind", "market_type", "sport_key", "sportsbook_id", "currency", "stake_minor",
    "odds_decimal", "odds_american", "placed_at", "status", "clv_percent",
    "event__id", "event__commence_time", "event__home_team", "event__away_team",
)  # fmt: skip
_PUBLIC_LEG_FIELDS = (
    "id",
    "bet_id",
    "position",
    "event_id",
    "market_id",
    "outcome_id",
    "price_decimal",
    "point",
    "attributes",
)


def bets_for_public_view(*, bet_ids) -> dict[int, Bet]:
    """The bets with `bet_ids` (a list or an id queryset), by id, with their event and legs:
    only the columns a public card shows (a feed page reads twenty of these per request).
    A leg's market, outcome and event load on access; its `attributes` usually suffice."""
    legs = Prefetch("legs", queryset=BetLeg.objects.only(*_PUBLIC_LEG_FIELDS).order_by("position"))
    bets = (
        Bet.objects.filter(pk__in=bet_ids)
        .select_related("event")
        .only(*_PUBLIC_BET_FIELDS)
        .prefetch_related(legs)
    )
    return {bet.pk: bet for bet in bets}


UNIT_PLACES = Decimal("0.00000001")


def bet_result_per_unit(
    *, status: str, result: str, odds_decimal: Decimal, stake_minor: int, legs: list[tuple[str, Decimal]]
) -> tuple[str, Decimal | None]:
    """A settled bet's result and profit per unit staked, from prices and results only, so
    neither says anything about the stake: win price - 1, loss -1, push and void 0, half
    results half of those, a parlay from its legs' results (`grading.settle_per_unit`).

    A bet settled by the engine has every leg graded and its result is what `grading.settle`
    gives for its legs; a bet settled by staff has one result for the whole bet at the bet's
    price (`betting.services.staff`), which is then what it was paid on. (The stake is only
    used to tell the two apart: for an engine-settled bet the answer is the same at any
    stake.) Not settled: (result, None)."""
    if status == Bet.Status.VOID or result == grading.Result.VOID:
        return grading.Result.VOID.value, Decimal(0)
    if status != Bet.Status.SETTLED or not result:
        return result, None
    graded = [(grading.Result(leg_result), price) for leg_result, price in legs if leg_result]
    is_engine_settled_parlay = (
        len(legs) > 1 and len(graded) == len(legs) and grading.settle(stake_minor, graded).result == result
    )
    if is_engine_settled_parlay:
        public_result, factor = grading.settle_per_unit(graded)
        return public_result.value, (factor - 1).quantize(UNIT_PLACES)
    factor = grading.leg_factor(grading.Result(result), odds_decimal)
    return result, (factor - 1).quantize(UNIT_PLACES)


def bet_result_for_public_record(*, bet_id: int) -> Mapping[str, Any] | None:
    """The settled facts of one bet (status, result, stake, profit, CLV, settled time), and
    `public_result` and `profit_units`: its result and profit per unit staked from prices
    and results only (`bet_result_per_unit`), what a public record may show."""
    values = (
        Bet.objects.filter(pk=bet_id)
        .values(
            "user_id",
            "status",
            "result",
            "stake_minor",
            "odds_decimal",
            "currency",
            "net_profit_minor",
            "clv_percent",
            "sport_key",
            "settled_at",
            "cancelled_at",
            "placed_at",
        )
        .first()
    )
    if values is None:
        return None
    facts: dict[str, Any] = dict(values)
    legs = list(
        BetLeg.objects.filter(bet_id=bet_id).order_by("position").values_list("result", "price_decimal")
    )
    facts["public_result"], facts["profit_units"] = bet_result_per_unit(
        status=facts["status"],
        result=facts["result"],
        odds_decimal=facts["odds_decimal"],
        stake_minor=facts["stake_minor"],
        legs=legs,
    )
    return facts


def bet_clv_for_bets(*, bet_ids) -> dict[int, Decimal | None]:
    """Each bet's closing line value (taken / closing - 1), None while unknown."""
    return dict(Bet.objects.filter(pk__in=bet_ids).values_list("id", "clv_percent"))


def units_chart(*, cumulative_units: list[Decimal]):
    """The betting statistics page's line chart (`betting/_chart.html`) of a cumulative
    series in units."""
    from betting import charts

    return charts.line_chart(
        [float(units) for units in cumulative_units], label=lambda value: f"{value:+.2f}u"
    )


def manual_settlement_pending_id(*, bet_id: int) -> int | None:
    """The manual settlement of this bet waiting for a second staff member, if any."""
    return (
        ManualSettlement.objects.filter(bet_id=bet_id, status=ManualSettlement.Status.PENDING)
        .values_list("pk", flat=True)
        .first()
    )
