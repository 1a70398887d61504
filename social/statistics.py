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
because only the owner sees it. Both are made by the same classification
(`betting.statistics.tally`); only the weighting differs, and here it is one unit a bet.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from betting.statistics import grouped, tally


@dataclass(frozen=True)
class PublicRow:
    status: str
    result: str
    profit_units: Decimal | None
    clv_percent: Decimal | None
    sport: str


def _one_unit(row: PublicRow) -> int:
    """The flat stake: every settled bet counts as one unit staked, whatever it really staked
    (a PublicRow carries no stake to weigh by)."""
    return 1


def _units(row: PublicRow) -> Decimal:
    return row.profit_units or Decimal(0)


def summarise(rows: Iterable[PublicRow]) -> dict:
    total = tally(rows, stake=_one_unit, profit=_units)
    return {
        **total.counts(),
        "profit_units": Decimal(total.profit),
        "roi": total.roi,
        "win_rate": total.win_rate,
        **total.closing_line(),
    }


def public_statistics(rows: Iterable[PublicRow]) -> dict:
    """The overall summary and the same summary by sport."""
    return grouped(rows, summarise, {"by_sport": lambda row: row.sport})
