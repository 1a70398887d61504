"""Money between its two forms: integer minor units (the ledger) and `Decimal` major units
(forms, serializers, templates). The one place that knows a currency's minor unit, so no
module multiplies or divides by 100 by hand.

    to_minor(Decimal("12.34"), "USD") == 1234
    from_minor(1234, "USD") == Decimal("12.34")
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import moneyed
from django.conf import settings

from betthat.core.errors import ApplicationError


def minor_exponent(currency: str) -> int:
    """Decimal places of the currency's minor unit (USD 2, JPY 0), from ISO 4217."""
    sub_unit = moneyed.get_currency(currency).sub_unit
    return len(str(sub_unit)) - 1


def to_minor(amount: Decimal, currency: str) -> int:
    """Major units to minor units, exactly: an amount finer than the minor unit is refused
    (ValueError), never rounded."""
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise ValueError(f"not a finite Decimal amount: {amount!r}")
    minor = amount.scaleb(minor_exponent(currency))
    if minor != minor.to_integral_value():
        raise ValueError(f"{amount} {currency} is finer than the currency's minor unit")
    return int(minor)


def from_minor(amount_minor: int, currency: str) -> Decimal:
    """Minor units to a `Decimal` in major units with the currency's places (1234 -> 12.34)."""
    return scale_minor(int(amount_minor), minor_exponent(currency))


def scale_minor(amount_minor: int, places: int) -> Decimal:
    """Minor units to a `Decimal` with `places` decimals, exactly (1234, 2 -> 12.34), for the
    callers that know the places rather than the currency."""
    return Decimal(amount_minor).scaleb(-places).quantize(Decimal(1).scaleb(-places))


def fx_rate(currency: str) -> Decimal:
    """The value of one unit of `currency` in the common unit of settings.BETTING_FX_RATES
    (fixed rates: a limit must not move with the market). Betting limits and deposit limits
    both count every currency through this; a currency without a rate is a 400."""
    try:
        return Decimal(str(settings.BETTING_FX_RATES[currency]))
    except KeyError as error:
        raise ApplicationError(
            f"No conversion rate for {currency}.", code="validation_error", details={"currency": currency}
        ) from error


def convert_minor(amount_minor: int, source: str, target: str, *, round_up: bool) -> int:
    """`amount_minor` of `source` in `target` at the configured rates: amounts counted against
    a limit round up and limits round down, so a conversion never gives room the limit does not."""
    if source == target or amount_minor == 0:
        return amount_minor
    value = Decimal(amount_minor) * fx_rate(source) / fx_rate(target)
    return int(value.to_integral_value(ROUND_CEILING if round_up else ROUND_FLOOR))
