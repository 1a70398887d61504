"""Bet stakes: hold (cash to holds), release (back to cash), capture (settle against the house)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import IntegrityError, connection

from betthat.core.errors import ApplicationError, Conflict, NotFound
from betthat.core.serializers import minor_to_decimal
from wallet.ledger import InsufficientFunds, Leg, book
from wallet.models import Transaction
from wallet.services.common import (
    CASH,
    HOLDS,
    HOUSE,
    Entry,
    _bet_conflict,
    _check_amount,
    _check_currency,
    _event,
    _one_transaction,
    _unique_bet_violation,
)

if TYPE_CHECKING:
    from betthat.users.models import User


def wallet_hold(
    *,
    user: User,
    amount_minor: int,
    currency: str,
    bet_id: int | None = None,
    sportsbook_id: str = "",
    created_by: User | None = None,
) -> Transaction:
    """Move a stake from cash to holds (BET_PLACED). 409 `insufficient_funds` if short;
    409 `conflict` if this bet already has a hold. One statement: the booking and its
    outbox event."""
    _check_amount(amount_minor)
    _check_currency(currency)
    try:
        with _one_transaction():
            return book(
                user_id=user.pk,
                currency=currency,
                legs=[Leg(CASH, -amount_minor, Entry.HOLD), Leg(HOLDS, amount_minor, Entry.HOLD)],
                type=Transaction.Type.BET_PLACED,
                amount_minor=amount_minor,
                bet_id=bet_id,
                sportsbook_id=sportsbook_id,
                created_by=created_by,
                ref_type="bet" if bet_id is not None else "",
                ref_id=str(bet_id) if bet_id is not None else "",
                event=_event(
                    user_id=user.pk,
                    type=Transaction.Type.BET_PLACED,
                    amount_minor=amount_minor,
                    currency=currency,
                    bet_id=bet_id,
                ),
            )
    except IntegrityError as error:
        if _unique_bet_violation(error):
            raise _bet_conflict(error, bet_id=bet_id, message="This bet already has a stake hold.") from error
        raise


def _check_closing(
    *, bet_id: int, user_id: int, currency: str, amount_minor: int, booked: bool = True
) -> None:
    """Why a release or capture was refused: the bet's hold must be this user's, at least
    as large, and not closed yet. (A booked closing needs no check afterwards: the booking's
    guard requires the hold and the unique index `wallet_transaction_bet_closed_once` makes a
    second closing impossible.)"""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT max(user_id) FILTER (WHERE type = 'BET_PLACED'),
                   max(currency) FILTER (WHERE type = 'BET_PLACED'),
                   max(amount_minor) FILTER (WHERE type = 'BET_PLACED'),
                   count(*) FILTER (WHERE type IN ('BET_REFUND', 'BET_PAYOUT'))
              FROM wallet_transaction WHERE bet_id = %s
            """,
            [bet_id],
        )
        placed_user, placed_currency, held, closings = cursor.fetchone()
    if placed_user != user_id or placed_currency != currency:
        raise NotFound("No stake is held for this bet.", details={"bet_id": bet_id})
    if closings > (1 if booked else 0):
        raise Conflict("This bet's stake was already released or captured.", details={"bet_id": bet_id})
    if amount_minor > held:
        raise ApplicationError(
            "Cannot release or capture more than the stake held.",
            code="invalid_amount",
            details={"held": minor_to_decimal(held)},
        )


def _close_hold(
    *, user: User, bet_id: int, currency: str, stake_minor: int, legs: list[Leg], conflict: str, **header: Any
) -> Transaction:
    """Release or capture a bet's hold in one statement (the booking, its guard on the hold
    and its outbox event), as one transaction of its own."""
    try:
        with _one_transaction():
            try:
                return book(
                    user_id=user.pk,
                    currency=currency,
                    legs=legs,
                    bet_id=bet_id,
                    ref_type="bet",
                    ref_id=str(bet_id),
                    requires_hold=(bet_id, stake_minor),
                    event=_event(
                        user_id=user.pk,
                        type=header["type"],
                        amount_minor=header["amount_minor"],
                        currency=currency,
                        bet_id=bet_id,
                    ),
                    **header,
                )
            except (InsufficientFunds, NotFound):
                # Usually "there is no such hold" or "already closed": say which.
                _check_closing(
                    bet_id=bet_id, user_id=user.pk, currency=currency, amount_minor=stake_minor, booked=False
                )
                raise
    except IntegrityError as error:
        if _unique_bet_violation(error):
            raise _bet_conflict(error, bet_id=bet_id, message=conflict) from error
        raise


def wallet_release(
    *, user: User, amount_minor: int, currency: str, bet_id: int, created_by: User | None = None
) -> Transaction:
    """Give a held stake back to cash (BET_REFUND), at most once per bet and never more than
    was held."""
    _check_amount(amount_minor)
    return _close_hold(
        user=user,
        bet_id=bet_id,
        currency=currency,
        stake_minor=amount_minor,
        legs=[Leg(HOLDS, -amount_minor, Entry.RELEASE), Leg(CASH, amount_minor, Entry.RELEASE)],
        conflict="This bet was already refunded.",
        type=Transaction.Type.BET_REFUND,
        amount_minor=amount_minor,
        created_by=created_by,
    )


def wallet_capture(
    *,
    user: User,
    stake_minor: int,
    payout_minor: int,
    currency: str,
    bet_id: int,
    created_by: User | None = None,
) -> Transaction:
    """Settle a bet (BET_PAYOUT): the stake goes from holds to the house, the payout (0 for a
    loss) from the house to cash. At most once per bet."""
    _check_amount(stake_minor)
    _check_amount(payout_minor, allow_zero=True)
    return _close_hold(
        user=user,
        bet_id=bet_id,
        currency=currency,
        stake_minor=stake_minor,
        legs=[
            Leg(HOLDS, -stake_minor, Entry.DEBIT),
            Leg(HOUSE, stake_minor, Entry.CREDIT),
            Leg(HOUSE, -payout_minor, Entry.DEBIT),
            Leg(CASH, payout_minor, Entry.CREDIT),
        ],
        conflict="This bet was already settled.",
        type=Transaction.Type.BET_PAYOUT,
        amount_minor=payout_minor,
        created_by=created_by,
    )
