"""Betting statistics, aggregated from plain rows (pure; the selector feeds it).

Definitions, so the numbers mean one thing everywhere:

- `count` counts every bet except cancelled ones; `pending` those not yet settled.
- won = win + half win, lost = loss + half loss, pushed = push, void = void.
- `total_staked` and `profit` cover settled bets that were not void; ROI = profit / staked.
- win rate = won / (won + lost); pushes and voids are neither.
- average odds over every counted bet; average CLV and the share that beat the close
  over the bets whose closing line is known (bets without a close are left out).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from zoneinfo import ZoneInfo

RATIO_PLACES = Decimal("0.0001")
ODDS_PLACES = Decimal("0.0001")

WON = frozenset({"win", "half_win"})
LOST = frozenset({"loss", "half_loss"})


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


def summarise(rows: Iterable[BetRow]) -> dict:
    count = pending = won = lost = pushed = void = 0
    staked = profit = 0
    odds_total = Decimal(0)
    clv_values: list[Decimal] = []
    for row in rows:
        if row.status == "cancelled":
            continue
        count += 1
        odds_total += row.odds_decimal
        if row.clv_percent is not None:
            clv_values.append(row.clv_percent)
        if row.status == "pending":
            pending += 1
            continue
        if row.result in WON:
            won += 1
        elif row.result in LOST:
            lost += 1
        elif row.result == "push":
            pushed += 1
        elif row.result == "void" or row.status == "void":
            void += 1
            continue
        staked += row.stake_minor
        profit += row.net_profit_minor or 0
    return {
        "count": count,
        "pending": pending,
        "won": won,
        "lost": lost,
        "pushed": pushed,
        "void": void,
        "total_staked_minor": staked,
        "profit_minor": profit,
        "roi": _ratio(profit, staked),
        "win_rate": _ratio(won, won + lost),
        "average_odds": (odds_total / count).quantize(ODDS_PLACES, rounding=ROUND_HALF_EVEN)
        if count
        else None,
        "clv_count": len(clv_values),
        "average_clv": _ratio(sum(clv_values, Decimal(0)), len(clv_values)),
        "beat_close_share": _ratio(sum(1 for v in clv_values if v > 0), len(clv_values)),
    }


def month_key(when: datetime, tz: ZoneInfo) -> str:
    return when.astimezone(tz).strftime("%Y-%m")


def bet_statistics(rows: Iterable[BetRow], *, timezone_name: str = "UTC") -> dict:
    """The overall summary and the same summary by sport, book, market type and month
    (months are calendar months in the user's time zone)."""
    rows = list(rows)
    tz = _zone(timezone_name)
    groups: dict[str, dict[str, list[BetRow]]] = {
        "by_sport": defaultdict(list),
        "by_sportsbook": defaultdict(list),
        "by_market_type": defaultdict(list),
        "by_month": defaultdict(list),
    }
    for row in rows:
        groups["by_sport"][row.sport].append(row)
        groups["by_sportsbook"][row.sportsbook].append(row)
        groups["by_market_type"][row.market_type].append(row)
        groups["by_month"][month_key(row.placed_at, tz)].append(row)
    result = summarise(rows)
    for name, buckets in groups.items():
        result[name] = {key: summarise(bucket) for key, bucket in sorted(buckets.items())}
    return result


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ValueError, KeyError):
        return ZoneInfo("UTC")
