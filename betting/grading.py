"""The grading engine: pure functions, no database.

A leg is graded against an event's result into one of six results; a bet (one leg or a
parlay) is then paid by multiplying the legs' *factors* (what one unit of stake returns):

    win        price          loss       0
    push       1              void       1
    half win   (price + 1)/2  half loss  1/2

Quarter lines (spread -0.25, total 2.75) are two half stakes on the neighbouring lines
(-0.25 = half on 0 and half on -0.5), which is where the half results come from.

Money never touches float here: prices are `Decimal`, stakes integer minor units, and a
payout is rounded down to the minor unit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_HALF_EVEN, Decimal
from enum import StrEnum

ODDS_PLACES = Decimal("0.0001")
PERCENT_PLACES = Decimal("0.000001")
QUARTER = Decimal("0.25")
ONE = Decimal(1)
TWO = Decimal(2)


class Result(StrEnum):
    WIN = "win"
    LOSS = "loss"
    PUSH = "push"
    VOID = "void"
    HALF_WIN = "half_win"
    HALF_LOSS = "half_loss"


DRAW_NAMES = frozenset({"draw", "tie", "x"})
OVER_NAMES = frozenset({"over", "yes"})
UNDER_NAMES = frozenset({"under", "no"})
FINISHED = "final"
CANCELLED_STATUSES = frozenset({"cancelled", "canceled", "postponed", "abandoned", "void"})


class GradingError(ValueError):
    """A leg cannot be graded from the data given (an unknown outcome, no scores)."""


@dataclass(frozen=True)
class EventResult:
    """What happened: the final score and, for props, each player's stats.

    A player listed with `None` for a stat (or absent altogether) did not play.
    """

    status: str
    home_team: str
    away_team: str
    home_score: Decimal | int | None = None
    away_score: Decimal | int | None = None
    players: Mapping[str, Mapping[str, Decimal | int | float | None]] = field(default_factory=dict)

    @property
    def is_cancelled(self) -> bool:
        return self.status in CANCELLED_STATUSES


@dataclass(frozen=True)
class Selection:
    """One leg's pick: the market key (Odds API names: h2h, spreads, totals, player_*),
    the outcome's name, its line and, for props, the player."""

    market_key: str
    outcome_name: str
    point: Decimal | None = None
    player: str = ""
    has_draw: bool = False  # a three-way market: a team pick loses on a draw


def market_type_of(market_key: str) -> str:
    """The family a market key belongs to: moneyline, spread, total or prop."""
    key = market_key.lower()
    if key.startswith("player_") or key.startswith("batter_") or key.startswith("pitcher_"):
        return "prop"
    if key.startswith("h2h"):
        return "moneyline"
    if key.startswith("spreads") or key.startswith("alternate_spreads"):
        return "spread"
    if key.startswith("totals") or key.startswith("alternate_totals") or key.startswith("team_totals"):
        return "total"
    return "other"


def _decimal(value: Decimal | int | float | str) -> Decimal:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):
        return Decimal(repr(value))
    return Decimal(value)


def _sign(margin: Decimal) -> Result:
    if margin > 0:
        return Result.WIN
    if margin < 0:
        return Result.LOSS
    return Result.PUSH


def is_quarter_line(point: Decimal) -> bool:
    quarters = point / QUARTER
    return quarters == quarters.to_integral_value() and int(quarters) % 2 != 0


def _combine_halves(first: Result, second: Result) -> Result:
    pair = {first, second}
    if pair == {Result.WIN}:
        return Result.WIN
    if pair == {Result.LOSS}:
        return Result.LOSS
    if pair == {Result.PUSH}:
        return Result.PUSH
    if pair == {Result.WIN, Result.PUSH}:
        return Result.HALF_WIN
    if pair == {Result.LOSS, Result.PUSH}:
        return Result.HALF_LOSS
    # A win and a loss cannot both happen on lines half a point apart.
    raise GradingError(f"inconsistent halves {first} and {second}")


def grade_line(margin_before_line: Decimal, point: Decimal) -> Result:
    """Grade `margin_before_line + point` against zero, splitting quarter lines."""
    if is_quarter_line(point):
        low, high = point - QUARTER, point + QUARTER
        return _combine_halves(_sign(margin_before_line + low), _sign(margin_before_line + high))
    return _sign(margin_before_line + point)


def _team_margin(selection: Selection, result: EventResult) -> Decimal:
    if result.home_score is None or result.away_score is None:
        raise GradingError("the event has no final score")
    home, away = _decimal(result.home_score), _decimal(result.away_score)
    name = selection.outcome_name.strip().lower()
    if name == result.home_team.strip().lower():
        return home - away
    if name == result.away_team.strip().lower():
        return away - home
    raise GradingError(f"{selection.outcome_name!r} is neither team of the event")


def _player_stat(selection: Selection, result: EventResult) -> Decimal | None:
    """The player's stat for this market, or None when the player did not play."""
    stats = None
    wanted = selection.player.strip().lower()
    for name, values in result.players.items():
        if name.strip().lower() == wanted:
            stats = values
            break
    if not stats:
        return None
    key = selection.market_key
    for candidate in (key, key.removeprefix("player_"), key.removesuffix("_alternate")):
        if candidate in stats:
            value = stats[candidate]
            return None if value is None else _decimal(value)
    return None


def grade_leg(selection: Selection, result: EventResult) -> Result:
    """The result of one leg. Cancelled events and players who did not play are void."""
    if result.is_cancelled:
        return Result.VOID
    if result.status != FINISHED:
        raise GradingError(f"the event is not finished ({result.status})")
    kind = market_type_of(selection.market_key)
    name = selection.outcome_name.strip().lower()

    if kind == "moneyline":
        if name in DRAW_NAMES:
            return Result.WIN if _team_margin_any(result) == 0 else Result.LOSS
        margin = _team_margin(selection, result)
        if margin == 0 and not selection.has_draw:
            return Result.PUSH  # a two-way moneyline that ends level is returned
        return _sign(margin) if margin != 0 else Result.LOSS

    if kind == "spread":
        if selection.point is None:
            raise GradingError("a spread leg needs a point")
        return grade_line(_team_margin(selection, result), _decimal(selection.point))

    if kind == "total":
        if selection.point is None:
            raise GradingError("a total leg needs a point")
        if result.home_score is None or result.away_score is None:
            raise GradingError("the event has no final score")
        total = _decimal(result.home_score) + _decimal(result.away_score)
        return _grade_over_under(name, total, _decimal(selection.point))

    if kind == "prop":
        stat = _player_stat(selection, result)
        if stat is None:
            return Result.VOID
        point = _decimal(selection.point) if selection.point is not None else Decimal("0.5")
        return _grade_over_under(name, stat, point)

    raise GradingError(f"no grading rule for market {selection.market_key!r}")


def _team_margin_any(result: EventResult) -> Decimal:
    if result.home_score is None or result.away_score is None:
        raise GradingError("the event has no final score")
    return _decimal(result.home_score) - _decimal(result.away_score)


def _grade_over_under(name: str, value: Decimal, point: Decimal) -> Result:
    # Over wins when value > point: margin value - point. Under: point - value.
    # Written as grade_line(margin_before_line, line) with the line's sign folded in.
    if name in OVER_NAMES:
        return grade_line(value, -point)
    if name in UNDER_NAMES:
        return grade_line(-value, point)
    raise GradingError(f"{name!r} is not over or under")


# Payout math --------------------------------------------------------------------------


def leg_factor(result: Result, price: Decimal) -> Decimal:
    """What one unit staked on this leg returns."""
    if result == Result.WIN:
        return price
    if result == Result.LOSS:
        return Decimal(0)
    if result in (Result.PUSH, Result.VOID):
        return ONE
    if result == Result.HALF_WIN:
        return (price + ONE) / TWO
    if result == Result.HALF_LOSS:
        return ONE / TWO
    raise GradingError(f"unknown result {result!r}")


def combined_price(prices: Iterable[Decimal]) -> Decimal:
    """A parlay's price: the product of its legs, rounded down to 4 places."""
    product = ONE
    for price in prices:
        product *= _decimal(price)
    return product.quantize(ODDS_PLACES, rounding=ROUND_DOWN)


def amount_minor(stake_minor: int, factor: Decimal) -> int:
    """`stake x factor` in minor units, rounded down to the minor unit."""
    return int((Decimal(stake_minor) * factor).to_integral_value(rounding=ROUND_DOWN))


def potential_return_minor(stake_minor: int, price: Decimal) -> int:
    return amount_minor(stake_minor, _decimal(price))


@dataclass(frozen=True)
class Settlement:
    """A bet's result and payout (`payout_minor` includes the returned stake)."""

    result: Result
    payout_minor: int
    factor: Decimal

    def net_profit_minor(self, stake_minor: int) -> int:
        return self.payout_minor - stake_minor


def settle(stake_minor: int, legs: list[tuple[Result, Decimal]]) -> Settlement:
    """Combine graded legs `(result, price)` into the bet's result and payout.

    One leg: its own result. A parlay: any losing leg loses it; pushed and void legs drop
    out (factor 1) so the price is recomputed over the rest; half results multiply through.
    All legs void is a void (stake back); all pushed or void is a push.
    """
    if not legs:
        raise GradingError("a bet has at least one leg")
    if len(legs) == 1:
        result, price = legs[0]
        factor = leg_factor(result, _decimal(price))
        return Settlement(result, amount_minor(stake_minor, factor), factor)

    results = [result for result, _ in legs]
    if Result.LOSS in results:
        return Settlement(Result.LOSS, 0, Decimal(0))
    if all(result == Result.VOID for result in results):
        return Settlement(Result.VOID, stake_minor, ONE)
    if all(result in (Result.PUSH, Result.VOID) for result in results):
        return Settlement(Result.PUSH, stake_minor, ONE)
    factor = ONE
    for result, price in legs:
        factor *= leg_factor(result, _decimal(price))
    factor = factor.quantize(ODDS_PLACES, rounding=ROUND_DOWN)
    payout = amount_minor(stake_minor, factor)
    has_half = Result.HALF_WIN in results or Result.HALF_LOSS in results
    if payout == stake_minor:
        result = Result.PUSH
    elif payout > stake_minor:
        result = Result.HALF_WIN if has_half else Result.WIN
    else:
        result = Result.HALF_LOSS
    return Settlement(result, payout, factor)


def settle_per_unit(legs: list[tuple[Result, Decimal]]) -> tuple[Result, Decimal]:
    """`settle` for one unit of stake: the bet's result and factor from the legs' results
    and prices only. `settle` names a parlay's result from the rounded payout (a payout
    that rounds down to the stake is a push), so its result can depend on the stake; here
    it depends on the factor, which never does. This is what public records show."""
    if not legs:
        raise GradingError("a bet has at least one leg")
    if len(legs) == 1:
        result, price = legs[0]
        return Result(result), leg_factor(Result(result), _decimal(price))
    results = [Result(result) for result, _ in legs]
    if Result.LOSS in results:
        return Result.LOSS, Decimal(0)
    if all(result == Result.VOID for result in results):
        return Result.VOID, ONE
    if all(result in (Result.PUSH, Result.VOID) for result in results):
        return Result.PUSH, ONE
    factor = ONE
    for result, price in zip(results, (price for _, price in legs), strict=True):
        factor *= leg_factor(result, _decimal(price))
    factor = factor.quantize(ODDS_PLACES, rounding=ROUND_DOWN)
    has_half = Result.HALF_WIN in results or Result.HALF_LOSS in results
    if factor == ONE:
        return Result.PUSH, factor
    if factor > ONE:
        return (Result.HALF_WIN if has_half else Result.WIN), factor
    return Result.HALF_LOSS, factor


# Closing line value --------------------------------------------------------------------


def clv_percent(taken: Decimal, closing: Decimal) -> Decimal:
    """taken decimal / closing decimal - 1 (0.05 = 5% better than the close)."""
    return (_decimal(taken) / _decimal(closing) - ONE).quantize(PERCENT_PLACES, rounding=ROUND_HALF_EVEN)


def ev_against_close(taken: Decimal, fair_probability: Decimal | float) -> Decimal:
    """Fair closing probability x taken decimal - 1: the bet's edge over the close."""
    probability = _decimal(fair_probability)
    return (probability * _decimal(taken) - ONE).quantize(PERCENT_PLACES, rounding=ROUND_HALF_EVEN)
