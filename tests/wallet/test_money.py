"""The one money parser: plain decimal notation only, and never an exception but a refusal."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from betthat.core.errors import ApplicationError
from wallet.money import format_minor, parse_amount, parse_signed_amount

REFUSED = [
    "1e3",
    "1E3",
    "NaN",
    "nan",
    "Infinity",
    "-Infinity",
    "inf",
    "\u0663",
    "\u0663.\u0665\u0660",
    "+5",
    "1,000",
    "1_000",
    "0x10",
    "5.",
    ".5",
    "1.005",
    "1.500",
    "-5",
    "0",
    "0.00",
    "",
    "  ",
    "12 34",
    "1..2",
    "\u0967\u0968",
    "\uff15",
]


@pytest.mark.parametrize("text", REFUSED)
def test_only_plain_decimal_notation_is_an_amount(text):
    with pytest.raises(ApplicationError) as refused:
        parse_amount(text)
    assert refused.value.code == "invalid_amount" and refused.value.status == 400


@pytest.mark.parametrize(
    ("value", "minor"),
    [
        ("25", 2_500),
        ("25.5", 2_550),
        ("25.50", 2_550),
        (" 0.01 ", 1),
        ("1000000.00", 100_000_000),
        (12, 1_200),
        ("007.10", 710),
        (Decimal("3.25"), 325),
        (2.5, 250),
    ],
)
def test_plain_amounts_parse_exactly(value, minor):
    assert parse_amount(value) == minor


def test_zero_is_allowed_only_when_asked():
    assert parse_amount("0", allow_zero=True) == 0
    assert parse_amount("0.00", allow_zero=True) == 0


@pytest.mark.parametrize(("text", "minor"), [("-25.00", -2_500), ("25", 2_500), ("-0.01", -1)])
def test_signed_amounts(text, minor):
    assert parse_signed_amount(text) == minor


@pytest.mark.parametrize("text", ["- 5", "+5", "--5", "0", "-0", "1e2", "-NaN"])
def test_signed_amounts_refuse_the_rest(text):
    with pytest.raises(ApplicationError):
        parse_signed_amount(text)


@given(
    st.one_of(
        st.text(max_size=60),
        st.integers(),
        st.floats(allow_nan=True),
        st.none(),
        st.booleans(),
        st.decimals(allow_nan=True),
        st.lists(st.integers(), max_size=2),
    )
)
def test_any_value_is_an_amount_or_an_invalid_amount_refusal(value):
    for parser in (parse_amount, parse_signed_amount):
        try:
            minor = parser(value)
        except ApplicationError as error:
            assert error.code == "invalid_amount" and error.status == 400
            assert set(error.details) >= {"amount"}
        else:
            assert isinstance(minor, int) and not isinstance(minor, bool)
            assert 0 < abs(minor) <= 10_000_000_000
            assert format_minor(abs(minor)).replace(",", "") == str(
                Decimal(abs(minor)).scaleb(-2).quantize(Decimal("0.01"))
            )


@given(st.integers(min_value=1, max_value=10_000_000_000))
def test_formatting_then_parsing_is_the_identity(minor):
    assert parse_amount(format_minor(minor).replace(",", "")) == minor
