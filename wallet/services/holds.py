"""Bet stakes: hold (cash to holds), release (back to cash), capture (settle against the house)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db import IntegrityError

from betthat.core.db import single_statement_transaction
from betthat.core.errors import NotFound
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
    _unique_bet_violation,
    check_closings,
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
        with single_statement_transaction():
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


def wallet_hold_event(*, user_id: int, amount_minor: int, currency: str) -> dict[str, Any]:
    """For a hold booked in SQL of its own (betting's `betting_bet_reserve`, which writes the
    BET_PLACED header, its entries and this event in the placement's one statement): the
    checks of `wallet_hold` and the payload of its `wallet.transaction.completed` event, to
    which the statement adds `bet_id` and `transaction_id`. The caller nudges the relay."""
    _check_amount(amount_minor)
    _check_currency(currency)
    return _event(
        user_id=user_id,
        type=Transaction.Type.BET_PLACED,
        amount_minor=amount_minor,
        currency=currency,
        bet_id=None,
    )[1]


def _close_hold(
    *, user: User, bet_id: int, currency: str, stake_minor: int, legs: list[Leg], conflict: str, **header: Any
) -> Transaction:
    """Release or capture a bet's hold in one statement (the booking, its guard on the hold
    and its outbox event), as one transaction of its own."""
    try:
        with single_statement_transaction():
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
                check_closings(closing=[(bet_id, user.pk, stake_minor)], currency=currency, booked=False)
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
