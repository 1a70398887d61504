"""Betting statistics, aggregated from plain rows (pure; the selector feeds it).

Definitions, so the numbers mean one thing everywhere:

- `count` counts every bet except cancelled ones; `pending` those not yet settled.
- won = win + half win, lost = loss + half loss, pushed = push, void = void.
- `total_staked` and `profit` cover settled bets that were not void; ROI = profit / staked.
- win rate = won / (won + lost); pushes and voids are neither.
- average odds over every counted bet; average CLV and the share that beat the close
  over the bets whose closing line is known (bets without a close are left out).

`tally` is the one classification of a record's rows, with the weighting as a parameter:
`summarise` here weighs by the real stake (only the owner sees it); the public record
(`social.statistics`) uses the same tally with one unit staked on every bet, so its numbers
never depend on a stake.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Generic, Protocol, TypeVar
from zoneinfo import ZoneInfo

RATIO_PLACES = Decimal("0.0001")
ODDS_PLACES = Decimal("0.0001")

WON = frozenset({"win", "half_win"})
LOST = frozenset({"loss", "half_loss"})


class GradedRow(Protocol):
    """What the classification reads of a bet: its state, its result and its CLV."""

    @property
    def status(self) -> str: ...

    @property
    def result(self) -> str: ...

    @property
    def clv_percent(self) -> Decimal | None: ...


Row = TypeVar("Row", bound=GradedRow)


@dataclass(frozen=True)
class BetRow:
    status: str
    result: str
    stake_minor: int
    odds_decimal: Decimal
    net_profit_minor: int | None
    clv_percent: Decimal | None
    sport: str
    sportsbook: str
    market_type: str
    placed_at: datetime


def _ratio(numerator: Decimal | int, denominator: Decimal | int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATIO_PLACES, rounding=ROUND_HALF_EVEN)


@dataclass
class Tally(Generic[Row]):
    """One pass over a record's rows: the counts, what the settled non-void bets staked and
    made (in whatever the weighting measures), and the CLV of the bets with a close."""

    counted: list[Row] = field(default_factory=list)
    pending: int = 0
    won: int = 0
    lost: int = 0
    pushed: int = 0
    void: int = 0
    staked: Decimal | int = 0
    profit: Decimal | int = 0
    clv_values: list[Decimal] = field(default_factory=list)

    def counts(self) -> dict:
        return {
            "count": len(self.counted),
            "pending": self.pending,
            "won": self.won,
            "lost": self.lost,
            "pushed": self.pushed,
            "void": self.void,
        }

    @property
    def roi(self) -> Decimal | None:
        return _ratio(self.profit, self.staked)

    @property
    def win_rate(self) -> Decimal | None:
        return _ratio(self.won, self.won + self.lost)

    def closing_line(self) -> dict:
        values = self.clv_values
        return {
            "clv_count": len(values),
            "average_clv": _ratio(sum(values, Decimal(0)), len(values)),
            "beat_close_share": _ratio(sum(1 for value in values if value > 0), len(values)),
        }


def tally(
    rows: Iterable[Row], *, stake: Callable[[Row], Decimal | int], profit: Callable[[Row], Decimal | int]
) -> Tally[Row]:
    """Classify each row (cancelled ones are not counted) and add up `stake` and `profit` over
    the settled bets that are not void. The weighting is the caller's: the owner's page weighs
    by the real stake, the public record (social.statistics) stakes one unit on every bet."""
    total: Tally[Row] = Tally()
    for row in rows:
        if row.status == "cancelled":
            continue
        total.counted.append(row)
        if row.clv_percent is not None:
            total.clv_values.append(row.clv_percent)
        if row.status == "pending":
            total.pending += 1
            continue
        if row.result in WON:
            total.won += 1
        elif row.result in LOST:
            total.lost += 1
        elif row.result == "push":
            total.pushed += 1
        elif row.result == "void" or row.status == "void":
            total.void += 1
            continue
        total.staked += stake(row)
        total.profit += profit(row)
    return total


def grouped(
    rows: Iterable[Row], summarise: Callable[[list[Row]], dict], keys: Mapping[str, Callable[[Row], str]]
) -> dict:
    """`summarise` of every row, and under each name of `keys` the same summary of the rows
    grouped by that key (groups in key order)."""
    rows = list(rows)
    result = summarise(rows)
    for name, key in keys.items():
        buckets: dict[str, list[Row]] = defaultdict(list)
        for row in rows:
            buckets[key(row)].append(row)
        result[name] = {value: summarise(bucket) for value, bucket in sorted(buckets.items())}
    return result


def _stake_minor(row: BetRow) -> int:
    return row.stake_minor


def _net_profit_minor(row: BetRow) -> int:
    return row.net_profit_minor or 0


def summarise(rows: Iterable[BetRow]) -> dict:
    """The owner's summary: stake-weighted (staked and profit in minor units)."""
    total = tally(rows, stake=_stake_minor, profit=_net_profit_minor)
    count = len(total.counted)
    odds_total = sum((row.odds_decimal for row in total.counted), Decimal(0))
    return {
        **total.counts(),
        "total_staked_minor": total.staked,
        "profit_minor": total.profit,
        "roi": total.roi,
        "win_rate": total.win_rate,
        "average_odds": (odds_total / count).quantize(ODDS_PLACES, rounding=ROUND_HALF_EVEN)
        if count
        else None,
        **total.closing_line(),
    }


def month_key(when: datetime, tz: ZoneInfo) -> str:
    return when.astimezone(tz).strftime("%Y-%m")


def bet_statistics(rows: Iterable[BetRow], *, timezone_name: str = "UTC") -> dict:
    """The overall summary and the same summary by sport, book, market type and month
    (months are calendar months in the user's time zone)."""
    tz = _zone(timezone_name)
    keys: dict[str, Callable[[BetRow], str]] = {
        "by_sport": lambda row: row.sport,
        "by_sportsbook": lambda row: row.sportsbook,
        "by_market_type": lambda row: row.market_type,
        "by_month": lambda row: month_key(row.placed_at, tz),
    }
    return grouped(rows, summarise, keys)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ValueError, KeyError):
        return ZoneInfo("UTC")
