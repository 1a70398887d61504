"""Money between its two forms: integer minor units (the ledger) and `Decimal` major units
(forms, serializers, templates). The one place that knows a currency's minor unit, so no
module multiplies or divides by 100 by hand.

    to_minor(Decimal("12.34"), "USD") == 1234
    from_minor(1234, "USD") == Decimal("12.34")
"""

from __future__ import annotations

from decimal import Decimal

import moneyed


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
