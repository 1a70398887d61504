"""Movements between the house or fees and a user's cash: bonuses, fees, staff adjustments."""

from __future__ import annotations

from django.db import transaction

from betthat.core.errors import ApplicationError, PermissionDenied
from wallet.ledger import Leg, book
from wallet.models import Transaction
from wallet.services.common import (
    CASH,
    FEES,
    HOUSE,
    Entry,
    _check_amount,
    _check_currency,
    _completed,
)


@transaction.atomic
def wallet_bonus(
    *, user, amount_minor: int, currency: str = "USD", reason: str = "", created_by=None
) -> Transaction:
    """Credit a promotional amount from the house to the user's cash."""
    _check_amount(amount_minor)
    _check_currency(currency)
    tx = book(
        user_id=user.pk,
        currency=currency,
        legs=[Leg(HOUSE, -amount_minor, Entry.DEBIT), Leg(CASH, amount_minor, Entry.CREDIT)],
        type=Transaction.Type.BONUS,
        amount_minor=amount_minor,
        reason=reason,
        created_by=created_by,
    )
    _completed(tx)
    return tx


@transaction.atomic
def wallet_fee(
    *, user, amount_minor: int, currency: str = "USD", reason: str = "", created_by=None
) -> Transaction:
    """Charge a fee from the user's cash to the fees account (409 `insufficient_funds` if short)."""
    _check_amount(amount_minor)
    _check_currency(currency)
    tx = book(
        user_id=user.pk,
        currency=currency,
        legs=[Leg(CASH, -amount_minor, Entry.FEE), Leg(FEES, amount_minor, Entry.FEE)],
        type=Transaction.Type.FEE,
        amount_minor=amount_minor,
        fee_minor=amount_minor,
        reason=reason,
        created_by=created_by,
    )
    _completed(tx)
    return tx


@transaction.atomic
def wallet_adjust(*, user, amount_minor: int, currency: str = "USD", reason: str, staff) -> Transaction:
    """A staff correction: a signed amount between the house and the user's cash, with the
    staff member and the reason on the journal header. Never edits existing entries."""
    if staff is None or not getattr(staff, "is_staff", False):
        raise PermissionDenied("Only staff can adjust a wallet.")
    if not reason or not reason.strip():
        raise ApplicationError(
            "A reason is required.", code="validation_error", details={"reason": ["This field is required."]}
        )
    _check_amount(abs(amount_minor) if isinstance(amount_minor, int) else amount_minor)
    _check_currency(currency)
    tx = book(
        user_id=user.pk,
        currency=currency,
        legs=[Leg(HOUSE, -amount_minor, Entry.DEBIT), Leg(CASH, amount_minor, Entry.CREDIT)],
        type=Transaction.Type.ADJUSTMENT,
        amount_minor=abs(amount_minor),
        reason=reason.strip(),
        created_by=staff,
        ref_type="adjustment",
        ref_id=str(staff.pk),
    )
    _completed(tx)
    return tx
