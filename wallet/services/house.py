"""Movements between the house (or the fees account) and a user's cash: bonuses, fees and
staff adjustments share one booking path, `house_transfer`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from django.db import transaction

from wallet.ledger import Leg, book
from wallet.models import Transaction
from wallet.services.common import CASH, FEES, HOUSE, Entry, _check_amount, _check_currency, _completed

if TYPE_CHECKING:
    from betthat.users.models import User


def house_transfer(
    *,
    user: User,
    type: str,
    amount_minor: int,
    currency: str,
    reason: str,
    created_by: User | None,
    ref_type: str = "",
    ref_id: str = "",
) -> Transaction:
    """Book one movement between a user's cash and a system account, by `type`:

    - BONUS: +amount from the house to cash;
    - FEE: amount from cash to fees (409 `insufficient_funds` if short);
    - ADJUSTMENT: a signed amount from the house to cash (negative debits the user).

    One balanced transaction with its `wallet.transaction.completed` event; the headline
    amount on the header is positive."""
    magnitude = abs(amount_minor) if type == Transaction.Type.ADJUSTMENT else amount_minor
    _check_amount(magnitude)
    _check_currency(currency)
    if type == Transaction.Type.FEE:
        legs = [Leg(CASH, -amount_minor, Entry.FEE), Leg(FEES, amount_minor, Entry.FEE)]
    elif type in (Transaction.Type.BONUS, Transaction.Type.ADJUSTMENT):
        legs = [Leg(HOUSE, -amount_minor, Entry.DEBIT), Leg(CASH, amount_minor, Entry.CREDIT)]
    else:
        raise ValueError(f"not a house movement: {type}")
    with transaction.atomic():
        tx = book(
            user_id=user.pk,
            currency=currency,
            legs=legs,
            type=type,
            amount_minor=magnitude,
            fee_minor=amount_minor if type == Transaction.Type.FEE else 0,
            reason=reason,
            created_by=created_by,
            ref_type=ref_type,
            ref_id=ref_id,
        )
        _completed(tx)
    return tx


class HouseService(Protocol):
    def __call__(
        self,
        *,
        user: User,
        amount_minor: int,
        currency: str = "USD",
        reason: str = "",
        created_by: User | None = None,
    ) -> Transaction: ...


def _house_service(type: str, name: str, doc: str) -> HouseService:
    """A named service for one kind of `house_transfer` (the same checks and booking)."""

    def service(
        *,
        user: User,
        amount_minor: int,
        currency: str = "USD",
        reason: str = "",
        created_by: User | None = None,
    ) -> Transaction:
        return house_transfer(
            user=user,
            type=type,
            amount_minor=amount_minor,
            currency=currency,
            reason=reason,
            created_by=created_by,
        )

    service.__name__ = service.__qualname__ = name
    service.__doc__ = doc
    return service


wallet_bonus = _house_service(
    Transaction.Type.BONUS, "wallet_bonus", "Credit a promotional amount from the house to the user's cash."
)
wallet_fee = _house_service(
    Transaction.Type.FEE,
    "wallet_fee",
    "Charge a fee from the user's cash to the fees account (409 `insufficient_funds` if short).",
)
