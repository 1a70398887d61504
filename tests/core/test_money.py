"""betthat.core.money: minor and major units, exactly, in one place."""

from __future__ import annotations

from decimal import Decimal

import pytest

from betthat.core.money import from_minor, minor_exponent, to_minor


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("12.34", "USD", 1234),
        ("0.01", "EUR", 1),
        ("100", "GBP", 10_000),
        ("-5.50", "USD", -550),
        ("1000000.00", "USD", 100_000_000),
        ("7", "JPY", 7),
    ],
)
def test_round_trip(amount, currency, minor):
    assert to_minor(Decimal(amount), currency) == minor
    assert from_minor(minor, currency) == Decimal(amount)


def test_from_minor_keeps_the_currency_places():
    assert str(from_minor(5, "USD")) == "0.05" and str(from_minor(500, "USD")) == "5.00"
    assert minor_exponent("USD") == 2 and minor_exponent("JPY") == 0


@pytest.mark.parametrize("amount", [Decimal("1.234"), Decimal("NaN"), Decimal("Infinity"), 1.5, "2.00"])
def test_to_minor_refuses_what_it_cannot_convert_exactly(amount):
    with pytest.raises(ValueError):
        to_minor(amount, "USD")
