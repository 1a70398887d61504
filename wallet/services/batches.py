"""Settlement batches: many captures or releases booked in one statement, all or nothing."""

from __future__ import annotations

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from betthat.core.errors import Conflict
from wallet.ledger import BookedTransaction, Booking, InsufficientFunds, Leg, book_many
from wallet.models import Transaction
from wallet.services.common import (
    CASH,
    HOLDS,
    HOUSE,
    Entry,
    _check_amount,
    _check_currency,
    _event,
    _unique_bet_violation,
    check_closings,
)


@dataclass(frozen=True)
class CaptureSpec:
    """One bet to capture in `wallet_capture_many` (the arguments of `wallet_capture`)."""

    user_id: int
    bet_id: int
    stake_minor: int
    payout_minor: int
    created_by_id: int | None = None


@dataclass(frozen=True)
class ReleaseSpec:
    """One bet to release in `wallet_release_many` (the arguments of `wallet_release`)."""

    user_id: int
    bet_id: int
    amount_minor: int
    created_by_id: int | None = None


def _close_many(
    *, currency: str, bookings: list[Booking], closing: list[tuple[int, int, int]]
) -> list[BookedTransaction]:
    if len({booking.bet_id for booking in bookings}) != len(bookings):
        raise ValueError("a bet appears twice in one batch")
    _check_currency(currency)
    try:
        with transaction.atomic():
            try:
                # Each header's `wallet.transaction.completed` is written by the same statement.
                payloads = [
                    _event(
                        user_id=booking.user_id,
                        type=booking.type,
                        amount_minor=booking.amount_minor,
                        currency=currency,
                        bet_id=booking.bet_id,
                    )[1]
                    for booking in bookings
                ]
                booked = book_many(
                    currency=currency, bookings=bookings, events=("wallet.transaction.completed", payloads)
                )
            except InsufficientFunds:
                # Usually "no such hold" or "already closed": say so rather than "insufficient funds".
                check_closings(closing=closing, currency=currency, booked=False)
                raise
            check_closings(closing=closing, currency=currency)
            return booked
    except IntegrityError as error:
        if _unique_bet_violation(error):
            raise Conflict("A bet of this batch was already settled or refunded.") from error
        raise


def wallet_capture_many(*, captures: list[CaptureSpec], currency: str) -> list[BookedTransaction]:
    """`wallet_capture` for a batch of bets, all or nothing: one BET_PAYOUT transaction per
    bet (the same four entries) and its event, booked in one statement, checked in one
    query. Returns the transactions in the order of `captures`. A bet already settled
    refuses the whole batch (409 `conflict`; the unique `(bet_id, type)` backs it)."""
    for spec in captures:
        _check_amount(spec.stake_minor)
        _check_amount(spec.payout_minor, allow_zero=True)
    bookings = [
        Booking(
            user_id=spec.user_id,
            legs=(
                Leg(HOLDS, -spec.stake_minor, Entry.DEBIT),
                Leg(HOUSE, spec.stake_minor, Entry.CREDIT),
                Leg(HOUSE, -spec.payout_minor, Entry.DEBIT),
                Leg(CASH, spec.payout_minor, Entry.CREDIT),
            ),
            type=Transaction.Type.BET_PAYOUT,
            amount_minor=spec.payout_minor,
            bet_id=spec.bet_id,
            created_by_id=spec.created_by_id,
            ref_type="bet",
            ref_id=str(spec.bet_id),
        )
        for spec in captures
    ]
    closing = [(spec.bet_id, spec.user_id, spec.stake_minor) for spec in captures]
    return _close_many(currency=currency, bookings=bookings, closing=closing)


def wallet_release_many(*, releases: list[ReleaseSpec], currency: str) -> list[BookedTransaction]:
    """`wallet_release` for a batch of bets, all or nothing (one BET_REFUND per bet)."""
    for spec in releases:
        _check_amount(spec.amount_minor)
    bookings = [
        Booking(
            user_id=spec.user_id,
            legs=(Leg(HOLDS, -spec.amount_minor, Entry.RELEASE), Leg(CASH, spec.amount_minor, Entry.RELEASE)),
            type=Transaction.Type.BET_REFUND,
            amount_minor=spec.amount_minor,
            bet_id=spec.bet_id,
            created_by_id=spec.created_by_id,
            ref_type="bet",
            ref_id=str(spec.bet_id),
        )
        for spec in releases
    ]
    closing = [(spec.bet_id, spec.user_id, spec.amount_minor) for spec in releases]
    return _close_many(currency=currency, bookings=bookings, closing=closing)
