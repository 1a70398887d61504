"""The one conversion between decimal and American odds, used by every layer.

Quotes (feeds, the simulator), bets (placement), edges (the finder copies the quote's
integer), the API, templates (`{% odds %}`) and the browser (`static/js/format.js`, which
implements the same rule in integer arithmetic) all go through these functions, so one price
always shows the same American number.

The rounding rule: the exact American value is rounded to the nearest integer, **half away
from zero** (Decimal's ROUND_HALF_UP), on the exact decimal price:

    d >= 2:  +(d - 1) * 100             2.125  -> +112.5    -> +113
    d <  2:  -100 / (d - 1)             1.9091 -> -110.0011 -> -110
                                         1.8    -> -125

Books publish American prices rounded this way, and it is symmetric for favourites and
underdogs. Before this module, placement rounded half to even (2.125 -> +112 on the bet while
the quote said +113).

`american_to_decimal` is exact (28 significant digits); the stored form of a price is
`quantize_odds` (6 places, half up). A stored price round-trips to its American integer for
every |American| up to 10,000 (tests/core/test_odds.py walks them all).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext

ODDS_PLACES = Decimal("0.000001")
_ONE = Decimal(1)
_TWO = Decimal(2)
_HUNDRED = Decimal(100)


class OddsError(ValueError):
    """A price outside its domain: decimal odds at or below 1, American odds inside (-100, +100)."""


def _as_decimal(value: Decimal | str | float | int) -> Decimal:
    if isinstance(value, bool):
        raise OddsError(f"Not a price: {value!r}")
    try:
        result = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except (InvalidOperation, ValueError) as error:
        raise OddsError(f"Not a price: {value!r}") from error
    if not result.is_finite():
        raise OddsError(f"Not a price: {value!r}")
    return result


def decimal_to_american(decimal_odds: Decimal | str | float) -> int:
    """2.5 -> +150, 2.125 -> +113, 1.9091 -> -110: the nearest integer, half away from zero."""
    d = _as_decimal(decimal_odds)
    if d <= _ONE:
        raise OddsError(f"Decimal odds must be above 1, not {decimal_odds}")
    with localcontext() as ctx:
        ctx.prec = 40
        if d >= _TWO:
            return int(((d - _ONE) * _HUNDRED).quantize(_ONE, rounding=ROUND_HALF_UP))
        return -int((_HUNDRED / (d - _ONE)).quantize(_ONE, rounding=ROUND_HALF_UP))


def american_to_decimal(american: int | str | Decimal) -> Decimal:
    """+150 -> 2.5, -110 -> 1.90909... exactly (28 significant digits); `quantize_odds` stores it."""
    value = _as_decimal(str(american).strip().lstrip("+") if isinstance(american, str) else american)
    if value != value.to_integral_value() or -100 < value < 100:
        raise OddsError(f"American odds are an integer of at least +100 or at most -100, not {american}")
    with localcontext() as ctx:
        ctx.prec = 28
        if value >= 100:
            return _ONE + value / _HUNDRED
        return _ONE + _HUNDRED / -value


def quantize_odds(decimal_odds: Decimal | str | float) -> Decimal:
    """The stored form of a decimal price: 6 places, half up."""
    return _as_decimal(decimal_odds).quantize(ODDS_PLACES, rounding=ROUND_HALF_UP)
