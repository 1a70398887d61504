"""What others may see of a public bet's stake.

- hidden: no amount is ever sent (nor anything it could be worked back from: no return,
  no profit in money; the result is shown in units, profit / stake).
- rounded: a bucket. The stake in whole currency units is rounded DOWN to two significant
  digits, and the bucket runs up to the next step: 7.50 -> 7 to 8, 12.34 -> 12 to 13,
  123.45 -> 120 to 130, 1,234.56 -> 1,200 to 1,300, 56,789 -> 56,000 to 57,000; under 1
  -> 0 to 1. Only the bucket's bounds are sent.
- exact: the stake and the profit in money.

The mode shown is the stricter of the mode in force when the bet was placed (kept on the
PublicBet and in the record) and the profile's current setting: a bettor who hides stakes
later hides the old ones too, and one who shows them later does not reveal old ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from social.models import StakeVisibility

_ORDER = [StakeVisibility.HIDDEN, StakeVisibility.ROUNDED, StakeVisibility.EXACT]


def stricter(first: str, second: str) -> str:
    return _ORDER[min(_ORDER.index(StakeVisibility(first)), _ORDER.index(StakeVisibility(second)))].value


@dataclass(frozen=True)
class StakeBucket:
    lower: int  # whole currency units
    upper: int


def stake_bucket(stake_minor: int, *, minor_per_unit: int = 100) -> StakeBucket:
    whole = stake_minor // minor_per_unit
    if whole < 10:
        return StakeBucket(whole, whole + 1)
    step = 10 ** (len(str(whole)) - 2)
    lower = whole // step * step
    return StakeBucket(lower, lower + step)


def _units(value: int) -> str:
    return f"{Decimal(value):.2f}"


def stake_public(*, stake_minor: int, currency: str, mode: str) -> dict:
    """The stake as others may see it: {"visibility", and for rounded "amount" (the bucket's
    floor), "upper", "display"; for exact "amount", "display"}; never an amount when hidden."""
    if mode == StakeVisibility.EXACT:
        amount = (Decimal(stake_minor) / 100).quantize(Decimal("0.01"))
        return {
            "visibility": "exact",
            "amount": f"{amount}",
            "currency": currency,
            "display": f"{amount:,.2f} {currency}",
        }
    if mode == StakeVisibility.ROUNDED:
        bucket = stake_bucket(stake_minor)
        return {
            "visibility": "rounded",
            "amount": _units(bucket.lower),
            "upper": _units(bucket.upper),
            "currency": currency,
            "display": f"{bucket.lower:,} to {bucket.upper:,} {currency}",
        }
    return {"visibility": "hidden", "display": "Hidden"}
