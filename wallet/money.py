"""The wallet's one money module: decimal strings in, integer minor units inside, never float.

Amounts from people and clients are *plain decimal notation* only: ASCII digits, optionally a
point and one or two decimals (`25`, `25.5`, `25.50`). Refused with 400 `invalid_amount`:
exponents (`1e3`), `NaN`/`Infinity`, signs (`+5`, and `-5` except where a signed amount is
asked for), thousands separators (`1,000`, `1_000`), non-ASCII digits (`٣` and the like), a bare
point (`5.`, `.5`), more than two decimals (`1.005`, `1.500`), zero (unless allowed) and more
than 100,000,000.00. Surrounding whitespace is ignored. JSON numbers are read through their
shortest text (`12.5` is `"12.5"`), so a float that is not exactly two decimals is refused.
"""

from __future__ import annotations

import re
from decimal import Decimal

from betthat.core.errors import ApplicationError
from betthat.core.formatting import format_money
from betthat.core.money import scale_minor
from wallet.ledger import MAX_AMOUNT_MINOR

MINOR_PLACES = 2
MINOR_PER_UNIT = 10**MINOR_PLACES
MAX_TEXT_LENGTH = 40
_PLAIN = re.compile(r"(?P<whole>[0-9]+)(?:\.(?P<fraction>[0-9]{1,2}))?", re.ASCII)
_EXAMPLE = "Enter an amount such as 25.00."


def invalid_amount(message: str, value: object) -> ApplicationError:
    return ApplicationError(
        message, code="invalid_amount", details={"amount": [message], "value": str(value)[:MAX_TEXT_LENGTH]}
    )


def _text(value: object) -> str:
    if isinstance(value, bool) or value is None or not isinstance(value, str | int | float | Decimal):
        raise invalid_amount(_EXAMPLE, value)
    return str(value).strip()


def _unsigned_minor(text: str, value: object, *, allow_zero: bool) -> int:
    if len(text) > MAX_TEXT_LENGTH:
        raise invalid_amount("That amount is too large.", value)
    match = _PLAIN.fullmatch(text)
    if match is None:
        if re.fullmatch(r"[0-9]+\.[0-9]{3,}", text, re.ASCII):
            raise invalid_amount("Use at most two decimal places.", value)
        raise invalid_amount(_EXAMPLE, value)
    whole = match.group("whole")
    fraction = (match.group("fraction") or "").ljust(MINOR_PLACES, "0")
    if len(whole.lstrip("0")) > 12:
        raise invalid_amount("That amount is too large.", value)
    minor: int = int(whole) * MINOR_PER_UNIT + int(fraction)
    if minor == 0 and not allow_zero:
        raise invalid_amount("The amount must be greater than zero.", value)
    if minor > MAX_AMOUNT_MINOR:
        raise invalid_amount("That amount is too large.", value)
    return minor


def parse_amount(value: object, *, allow_zero: bool = False) -> int:
    """'12.50' (or 12.5, or 12) -> 1250 minor units. See the module docstring for what is
    refused (400 `invalid_amount`); `allow_zero` lets '0' through (a limit of nothing)."""
    return _unsigned_minor(_text(value), value, allow_zero=allow_zero)


def parse_signed_amount(value: object) -> int:
    """'-25.00' -> -2500, '25' -> 2500 (a staff adjustment). Non-zero; a leading '-' is the
    only sign accepted."""
    text = _text(value)
    negative = text.startswith("-")
    minor: int = _unsigned_minor(text[1:] if negative else text, value, allow_zero=False)
    return -minor if negative else minor


def minor_as_decimal(amount_minor: int) -> Decimal:
    """1250 -> Decimal('12.50'), exactly."""
    return scale_minor(int(amount_minor), MINOR_PLACES)


def minor_cents(amount_minor: int) -> int:
    """The minor part of an amount: 1213 -> 13."""
    cents: int = abs(int(amount_minor)) % MINOR_PER_UNIT
    return cents


def format_minor(amount_minor: int, *, signed: bool = False) -> str:
    """1234567 -> '12,345.67' (for pages); `signed` puts '+' before a positive amount."""
    return format_money(int(amount_minor), "", signed=signed)


def format_plain(amount_minor: int) -> str:
    """1234567 -> '12345.67' (for CSV and JSON: no separators, the same digits as the API)."""
    return str(minor_as_decimal(amount_minor))
