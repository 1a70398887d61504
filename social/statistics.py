"""A public record's numbers, stake-free (pure; `social.selectors` feeds it).

Every number a public profile shows is made from each bet's price and result and nothing
else, so no amount of watching, differencing or mode switching gives back a stake:

- counts: bets (not cancelled), pending, won (win + half win), lost (loss + half loss),
  pushed, void;
- roi: flat-stake ROI, the average of `profit_units` (profit per unit staked) over settled
  bets that are not void: what the record would have made staking one unit on each bet;
- win rate = won / (won + lost);
- average CLV and the share that beat the close over the bets whose close is known.

The same rule holds for every profile whatever its stake setting (docs/social.md, "What
public numbers are made of"): the owner's own statistics page (betting) is stake-weighted,
because only the owner sees it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

RATIO_PLACES = Decimal("0.0001")
WON = frozenset({"win", "half_win"})
LOST = frozenset({"loss", "half_loss"})


@dataclass(frozen=True)
class PublicRow:
    status: str
    result: str
    profit_units: Decimal | None
    clv_percent: Decimal | None
    sport: str


def _ratio(numerator: Decimal | int, denominator: int) -> Decimal | None:
    if not denominator:
        return None
    return (Decimal(numerator) / Decimal(denominator)).quantize(RATIO_PLACES, rounding=ROUND_HALF_EVEN)


def summarise(rows: Iterable[PublicRow]) -> dict:
    count = pending = won = lost = pushed = void = settled = 0
    units = Decimal(0)
    clv_values: list[Decimal] = []
    for row in rows:
        if row.status == "cancelled":
            continue
        count += 1
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
        settled += 1
        units += row.profit_units or 0
    return {
        "count": count,
        "pending": pending,
        "won": won,
        "lost": lost,
        "pushed": pushed,
        "void": void,
        "profit_units": units,
        "roi": _ratio(units, settled),
        "win_rate": _ratio(won, won + lost),
        "clv_count": len(clv_values),
        "average_clv": _ratio(sum(clv_values, Decimal(0)), len(clv_values)),
        "beat_close_share": _ratio(sum(1 for value in clv_values if value > 0), len(clv_values)),
    }


def public_statistics(rows: Iterable[PublicRow]) -> dict:
    """The overall summary and the same summary by sport."""
    rows = list(rows)
    by_sport: dict[str, list[PublicRow]] = defaultdict(list)
    for row in rows:
        by_sport[row.sport].append(row)
    result = summarise(rows)
    result["by_sport"] = {sport: summarise(bucket) for sport, bucket in sorted(by_sport.items())}
    return result
