"""Amounts at the edges: decimal strings in, integer minor units inside, never float."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from betthat.core.errors import ApplicationError
from wallet.ledger import MAX_AMOUNT_MINOR

MINOR_PLACES = 2


def invalid_amount(message: str, value) -> ApplicationError:
    return ApplicationError(
        message, code="invalid_amount", details={"amount": [message], "value": str(value)[:40]}
    )


def parse_amount(value) -> int:
    """'12.50' (or 12.5, or 12) -> 1250. Refuses zero, negatives, more than two decimals,
    non-numbers and absurd sizes with 400 `invalid_amount`."""
    if isinstance(value, bool) or value is None:
        raise invalid_amount("Enter an amount such as 25.00.", value)
    text = str(value).strip()
    if not text or len(text) > 40:
        raise invalid_amount("Enter an amount such as 25.00.", value)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise invalid_amount("Enter an amount such as 25.00.", value) from None
    if not amount.is_finite():
        raise invalid_amount("Enter an amount such as 25.00.", value)
    if amount <= 0:
        raise invalid_amount("The amount must be greater than zero.", value)
    if amount.as_tuple().exponent < -MINOR_PLACES:  # '1.005' and '1.500' alike: at most 2 places
        raise invalid_amount("Use at most two decimal places.", value)
    if amount > Decimal(MAX_AMOUNT_MINOR).scaleb(-MINOR_PLACES):
        raise invalid_amount("That amount is too large.", value)
    minor = int(amount.scaleb(MINOR_PLACES))
    if minor > MAX_AMOUNT_MINOR:
        raise invalid_amount("That amount is too large.", value)
    return minor


def format_minor(amount_minor: int) -> str:
    """1234567 -> '12,345.67' (for pages)."""
    sign = "-" if amount_minor < 0 else ""
    whole, cents = divmod(abs(int(amount_minor)), 100)
    return f"{sign}{whole:,}.{cents:02d}"
