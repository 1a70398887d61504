"""Reads of the betting app, always scoped to the requesting user."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
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
from betting.models import Bet, BetLeg, LimitChange
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


def _rows_for_ids(bet_ids: Iterable[int]) -> list[BetRow]:
    return _bet_rows(Bet.objects.filter(pk__in=bet_ids))


def bet_statistics_for_bets(*, bet_ids, timezone_name: str = "UTC") -> dict:
    """`get_user_bet_statistics`' numbers (same definitions) over the bets with `bet_ids`."""
    return bet_statistics(_rows_for_ids(bet_ids), timezone_name=timezone_name)


def bet_units_series_for_bets(*, bet_ids: Iterable[int]) -> list[tuple[datetime | None, Decimal]]:
    """Cumulative profit in units (each settled bet's profit / its stake) in settlement
    order: a record's shape over time that says nothing about the stakes."""
    settled = (
        Bet.objects.filter(pk__in=bet_ids, status__in=[Bet.Status.SETTLED, Bet.Status.VOID])
        .order_by("settled_at", "id")
        .values_list("settled_at", "net_profit_minor", "stake_minor")
    )
    series = []
    running = Decimal(0)
    for when, net, stake in settled:
        running += Decimal(net or 0) / Decimal(stake)
        series.append((when, running.quantize(Decimal("0.0001"))))
    return series


def bet_units_chart_for_bets(*, bet_ids):
    """The betting statistics page's line chart (`betting/_chart.html`) of
    `bet_units_series_for_bets`."""
    from betting import charts

    values = [float(units) for _, units in bet_units_series_for_bets(bet_ids=bet_ids)]
    return charts.line_chart(values, label=lambda value: f"{value:+.2f}u")


def bet_result_for_public_record(*, bet_id: int) -> Mapping[str, Any] | None:
    """The settled facts of one bet (status, result, stake, profit, CLV, settled time)."""
    return (
        Bet.objects.filter(pk=bet_id)
        .values(
            "user_id",
            "status",
            "result",
            "stake_minor",
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
