"""Helpers every wallet service shares: account kinds, argument checks, the completed-movement event."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from betthat.core.db import binding_cursor
from betthat.core.errors import ApplicationError, Conflict, NotFound
from betthat.core.outbox import publish
from betthat.core.serializers import minor_to_decimal
from wallet.ledger import MAX_AMOUNT_MINOR
from wallet.models import Account, LedgerEntry, Transaction

CASH = Account.Kind.CASH.value
HOLDS = Account.Kind.HOLDS.value
HOUSE = Account.Kind.HOUSE.value
FEES = Account.Kind.FEES.value
CLEARING = Account.Kind.PSP_CLEARING.value
Entry = LedgerEntry.EntryType
COOLING_OFF = timedelta(hours=24)
logger = logging.getLogger(__name__)


def _check_amount(amount_minor: int, *, allow_zero: bool = False) -> None:
    if not isinstance(amount_minor, int) or isinstance(amount_minor, bool):
        raise ApplicationError("The amount must be a whole number of minor units.", code="invalid_amount")
    if amount_minor < 0 or (amount_minor == 0 and not allow_zero) or amount_minor > MAX_AMOUNT_MINOR:
        raise ApplicationError(
            "The amount must be positive and at most 100,000,000.00.",
            code="invalid_amount",
            details={"amount_minor": amount_minor},
        )


def _check_currency(currency: str) -> None:
    if currency not in settings.CURRENCIES:
        raise ApplicationError(
            f"Unsupported currency {currency!r}.",
            code="validation_error",
            details={"currency": [f"Choose one of {', '.join(settings.CURRENCIES)}."]},
        )


def _completed_payload(tx: Transaction) -> dict[str, Any]:
    return {
        "transaction_id": tx.pk,
        "user_id": tx.user_id,
        "type": tx.type,
        "amount": minor_to_decimal(tx.amount_minor),
        "currency": tx.currency,
        "bet_id": tx.bet_id,
    }


def _completed(tx: Transaction) -> None:
    """The event every completed movement of money publishes (in the same transaction)."""
    publish("wallet.transaction.completed", _completed_payload(tx))


def _unique_bet_violation(error: IntegrityError) -> bool:
    text = str(error)
    return "wallet_transaction_bet_type_unique" in text or "wallet_transaction_bet_closed_once" in text


def _bet_conflict(error: IntegrityError, *, bet_id: int | None, message: str) -> Conflict:
    if "wallet_transaction_bet_closed_once" in str(error):
        message = "This bet's stake was already released or captured."
    return Conflict(message, details={"bet_id": bet_id})


def _event(
    *, user_id: int, type: str, amount_minor: int, currency: str, bet_id: int | None
) -> tuple[str, dict[str, Any]]:
    """`wallet.transaction.completed` for `book(event=...)`, which adds the transaction id."""
    return (
        "wallet.transaction.completed",
        {
            "user_id": user_id,
            "type": type,
            "amount": minor_to_decimal(amount_minor),
            "currency": currency,
            "bet_id": bet_id,
        },
    )


STAFF_AUDIT_STREAM = "wallet-staff"


def staff_audit(record: dict[str, Any]) -> None:
    """Write a staff action on money to the audit store once the database transaction
    commits (a rolled-back action leaves no line). The ledger and the admin log hold the
    truth; a failing store is logged, never turned into a refused action."""
    from betthat.core.audit import audit_append

    entry = {"at": timezone.now().isoformat(), **record}

    def append() -> None:
        try:
            audit_append(STAFF_AUDIT_STREAM, entry)
        except Exception:
            logger.exception("wallet staff audit append failed: %s", entry.get("action"))

    transaction.on_commit(append)


# One index probe per bet (a lateral subquery cannot become a hash join): over `bet_id =
# ANY(...)` with stale statistics the planner chose to read the whole journal.
_CLOSINGS_SQL = """
SELECT i.bet_id, s.user_id, s.currency, s.held, s.closings
  FROM unnest(%s::bigint[]) AS i(bet_id)
 CROSS JOIN LATERAL (
    SELECT max(t.user_id) FILTER (WHERE t.type = 'BET_PLACED') AS user_id,
           max(t.currency) FILTER (WHERE t.type = 'BET_PLACED') AS currency,
           max(t.amount_minor) FILTER (WHERE t.type = 'BET_PLACED') AS held,
           count(*) FILTER (WHERE t.type IN ('BET_REFUND', 'BET_PAYOUT')) AS closings
      FROM wallet_transaction t
     WHERE t.bet_id = i.bet_id
 ) s
"""


def check_closings(*, closing: list[tuple[int, int, int]], currency: str, booked: bool = True) -> None:
    """Why closing (releasing or capturing) bets' holds was refused, or a check after booking
    a batch: for each (bet_id, user_id, amount_minor), in one query, the bet's hold is this
    user's, in `currency`, at least as large, and closed at most by this booking (`booked`).
    (A single booked closing needs no check afterwards: the booking's guard requires the hold
    and the unique index `wallet_transaction_bet_closed_once` makes a second closing
    impossible.)"""
    with binding_cursor() as cursor:
        cursor.execute(_CLOSINGS_SQL, [[bet_id for bet_id, _user, _amount in closing]], binary=True)
        found = {row[0]: row[1:] for row in cursor.fetchall()}
    for bet_id, user_id, amount_minor in closing:
        placed_user, placed_currency, held, closings = found.get(bet_id, (None, None, None, 0))
        if placed_user != user_id or placed_currency != currency:
            raise NotFound("No stake is held for this bet.", details={"bet_id": bet_id})
        if closings > (1 if booked else 0):
            raise Conflict("This bet's stake was already released or captured.", details={"bet_id": bet_id})
        if amount_minor > held:
            raise ApplicationError(
                "Cannot release or capture more than the stake held.",
                code="invalid_amount",
                details={"bet_id": bet_id, "held": minor_to_decimal(held)},
            )
