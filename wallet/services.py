"""Every write of the wallet. Each function is one database transaction (a savepoint when the
caller already has one), keyword-only and typed, and refuses with an ApplicationError code.

Money moves only through `wallet.ledger.book`: balanced entries plus the cached balances,
under row locks taken in one global order (see wallet.locks).
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from betthat.core.errors import ApplicationError, Conflict, NotFound, PermissionDenied
from betthat.core.outbox import publish, publish_many
from betthat.core.realtime import notify
from betthat.core.serializers import minor_to_decimal
from wallet.ledger import MAX_AMOUNT_MINOR, Booking, InsufficientFunds, Leg, binding_cursor, book, book_many
from wallet.locks import lock_payment, lock_user_accounts
from wallet.models import Account, DepositLimit, LedgerEntry, Payment, Transaction
from wallet.selectors import PERIOD_DAYS, deposits_in_window_minor, effective_limit

CASH = Account.Kind.CASH.value
HOLDS = Account.Kind.HOLDS.value
HOUSE = Account.Kind.HOUSE.value
FEES = Account.Kind.FEES.value
CLEARING = Account.Kind.PSP_CLEARING.value
Entry = LedgerEntry.EntryType
COOLING_OFF = timedelta(hours=24)


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


def _completed_payload(tx: Transaction) -> dict:
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


def _one_transaction():
    """A service's own transaction around a single booking statement: a savepoint inside the
    caller's transaction; in autocommit the statement is its own transaction (all or
    nothing), which saves the BEGIN and COMMIT round trips of `atomic()`."""
    return transaction.atomic() if transaction.get_connection().in_atomic_block else nullcontext()


def _event(
    *, user_id: int, type: str, amount_minor: int, currency: str, bet_id: int | None
) -> tuple[str, dict]:
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


# --- betting: stake holds, releases, captures --------------------------------------------


def wallet_hold(
    *,
    user,
    amount_minor: int,
    currency: str,
    bet_id: int | None = None,
    sportsbook_id: str = "",
    created_by=None,
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
    *, user, bet_id: int, currency: str, stake_minor: int, legs: list[Leg], conflict: str, **header
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


def wallet_release(*, user, amount_minor: int, currency: str, bet_id: int, created_by=None) -> Transaction:
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
    *, user, stake_minor: int, payout_minor: int, currency: str, bet_id: int, created_by=None
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


# --- batches for settlement -----------------------------------------------------------------


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


_CLOSINGS_SQL = """
SELECT bet_id,
       max(user_id) FILTER (WHERE type = 'BET_PLACED'),
       max(currency) FILTER (WHERE type = 'BET_PLACED'),
       max(amount_minor) FILTER (WHERE type = 'BET_PLACED'),
       count(*) FILTER (WHERE type IN ('BET_REFUND', 'BET_PAYOUT'))
  FROM wallet_transaction
 WHERE bet_id = ANY(%s)
 GROUP BY bet_id
"""


def _check_closings(*, closing: list[tuple[int, int, int]], currency: str, booked: bool = True) -> None:
    """`_check_closing` for a batch of (bet_id, user_id, amount_minor), in one query, after
    the booking took the account locks: each bet's hold is this user's, at least as large,
    and closed by this batch only."""
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


def _close_many(
    *, currency: str, bookings: list[Booking], closing: list[tuple[int, int, int]]
) -> list[Transaction]:
    if len({booking.bet_id for booking in bookings}) != len(bookings):
        raise ValueError("a bet appears twice in one batch")
    _check_currency(currency)
    try:
        with transaction.atomic():
            try:
                booked = book_many(currency=currency, bookings=bookings)
            except InsufficientFunds:
                # Usually "no such hold" or "already closed": say so rather than "insufficient funds".
                _check_closings(closing=closing, currency=currency, booked=False)
                raise
            _check_closings(closing=closing, currency=currency)
            publish_many("wallet.transaction.completed", [_completed_payload(tx) for tx in booked])
            return booked
    except IntegrityError as error:
        if _unique_bet_violation(error):
            raise Conflict("A bet of this batch was already settled or refunded.") from error
        raise


def wallet_capture_many(*, captures: list[CaptureSpec], currency: str) -> list[Transaction]:
    """`wallet_capture` for a batch of bets, all or nothing: one BET_PAYOUT transaction per
    bet (the same four entries), booked in one statement, checked in one query, published in
    one insert. Returns the transactions in the order of `captures`. A bet already settled
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


def wallet_release_many(*, releases: list[ReleaseSpec], currency: str) -> list[Transaction]:
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


# --- bonuses, fees, staff adjustments ------------------------------------------------------


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


# --- deposits ------------------------------------------------------------------------------


def _check_may_deposit(user) -> None:
    if user.is_suspended or not user.is_active:
        raise ApplicationError("This account is suspended.", code="account_suspended", status=403)
    if user.is_self_excluded:
        raise ApplicationError(
            "You are self-excluded and cannot deposit.",
            code="self_excluded",
            status=403,
            details={"until": user.self_excluded_until.isoformat()},
        )


def _check_deposit_limits(*, user, amount_minor: int, currency: str) -> None:
    now = timezone.now()
    for limit in DepositLimit.objects.filter(user_id=user.pk, currency=currency):
        cap = effective_limit(limit, now=now)
        if cap is None:
            continue
        used = deposits_in_window_minor(user=user, currency=currency, days=PERIOD_DAYS[limit.period], now=now)
        if used + amount_minor > cap:
            raise ApplicationError(
                f"This deposit would exceed your {limit.get_period_display()} deposit limit.",
                code="limit_exceeded",
                status=409,
                details={
                    "period": limit.period,
                    "limit": minor_to_decimal(cap),
                    "used": minor_to_decimal(used),
                    "remaining": minor_to_decimal(max(cap - used, 0)),
                    "currency": currency,
                },
            )


def _existing_payment(*, user, idempotency_key: str, direction: str, amount_minor: int, currency: str):
    if not idempotency_key:
        return None
    payment = Payment.objects.filter(user_id=user.pk, idempotency_key=idempotency_key).first()
    if payment is None:
        return None
    if payment.direction != direction or payment.amount_minor != amount_minor or payment.currency != currency:
        raise ApplicationError(
            "This idempotency key was used for a different request.", code="idempotency_conflict", status=409
        )
    return payment


def wallet_deposit_start(
    *, user, amount_minor: int, currency: str = "USD", provider: str | None = None, idempotency_key: str = ""
) -> Payment:
    """Open a deposit with the payment provider. Money moves only when the provider's webhook
    says it succeeded (`payment_webhook_receive`). Refuses a self-excluded or suspended user
    (403) and a deposit over a limit (409 `limit_exceeded`)."""
    from wallet.providers import get_provider

    _check_amount(amount_minor)
    _check_currency(currency)
    _check_may_deposit(user)
    gateway = get_provider(provider)
    with transaction.atomic():
        # The lock serialises this user's deposit starts, so two cannot both pass the limit.
        lock_user_accounts(user_id=user.pk, currency=currency)
        existing = _existing_payment(
            user=user,
            idempotency_key=idempotency_key,
            direction=Payment.Direction.DEPOSIT,
            amount_minor=amount_minor,
            currency=currency,
        )
        if existing is not None:
            return existing
        _check_deposit_limits(user=user, amount_minor=amount_minor, currency=currency)
        payment = Payment.objects.create(
            user=user,
            direction=Payment.Direction.DEPOSIT,
            amount_minor=amount_minor,
            currency=currency,
            provider=gateway.name,
            idempotency_key=idempotency_key,
        )
        Transaction.objects.create(
            user=user,
            payment=payment,
            type=Transaction.Type.DEPOSIT,
            status=Transaction.Status.PENDING,
            currency=currency,
            amount_minor=amount_minor,
            idempotency_key=idempotency_key,
        )
    # The provider call is outside our database transaction (it is a network call).
    try:
        started = gateway.start_deposit(payment)
    except ApplicationError:
        _payment_mark_failed(payment_id=payment.pk, reason="provider refused to start the deposit")
        raise
    Payment.objects.filter(pk=payment.pk).update(
        provider_transaction_id=started.provider_transaction_id,
        checkout_url=started.checkout_url,
        provider_customer_id=started.provider_customer_id,
        updated_at=timezone.now(),
    )
    payment.refresh_from_db()
    return payment


def _payment_mark_failed(*, payment_id: int, reason: str) -> None:
    with transaction.atomic():
        payment = lock_payment(payment_id=payment_id)
        if payment is not None and not payment.is_terminal:
            _fail_payment(payment=payment, reason=reason)


def _pending_transaction(payment: Payment) -> Transaction:
    return Transaction.objects.select_for_update().get(payment_id=payment.pk, type=payment.direction)


def _succeed_payment(*, payment: Payment) -> Transaction:
    """Apply a provider's success (the caller holds the payment lock; payment not terminal)."""
    tx = _pending_transaction(payment)
    now = timezone.now()
    if payment.direction == Payment.Direction.DEPOSIT:
        legs = [
            Leg(CLEARING, -payment.amount_minor, Entry.DEBIT),
            Leg(CASH, payment.amount_minor, Entry.CREDIT),
        ]
    else:  # the withdrawal's held funds leave to the provider
        legs = [
            Leg(HOLDS, -payment.amount_minor, Entry.DEBIT),
            Leg(CLEARING, payment.amount_minor, Entry.CREDIT),
        ]
    book(
        user_id=payment.user_id,
        currency=payment.currency,
        legs=legs,
        transaction=tx,
        ref_type=payment.direction.lower(),
        ref_id=str(payment.pk),
    )
    Transaction.objects.filter(pk=tx.pk).update(
        status=Transaction.Status.COMPLETED,
        completed_at=now,
        updated_at=now,
        processing_attempts=tx.processing_attempts + 1,
        external_reference=payment.provider_transaction_id,
    )
    tx.refresh_from_db()
    Payment.objects.filter(pk=payment.pk).update(
        status=Payment.Status.SUCCEEDED, completed_at=now, updated_at=now
    )
    payment.status = Payment.Status.SUCCEEDED
    payload = {
        "payment_id": payment.pk,
        "user_id": payment.user_id,
        "direction": payment.direction,
        "amount": minor_to_decimal(payment.amount_minor),
        "currency": payment.currency,
        "provider": payment.provider,
        "transaction_id": tx.pk,
    }
    publish("payments.succeeded", payload)
    _completed(tx)
    verb = "Deposit" if payment.direction == Payment.Direction.DEPOSIT else "Withdrawal"
    notify(
        payment.user_id,
        {
            "kind": "wallet",
            "event": "payments.succeeded",
            "message": f"{verb} of {minor_to_decimal(payment.amount_minor)} {payment.currency} succeeded.",
            "payment_id": payment.pk,
        },
    )
    return tx


def _fail_payment(*, payment: Payment, reason: str) -> None:
    """Apply a provider's failure (caller holds the payment lock; payment not terminal)."""
    tx = _pending_transaction(payment)
    now = timezone.now()
    if payment.direction == Payment.Direction.WITHDRAWAL:
        # The held funds go back to cash, in the same journal transaction.
        book(
            user_id=payment.user_id,
            currency=payment.currency,
            legs=[
                Leg(HOLDS, -payment.amount_minor, Entry.RELEASE),
                Leg(CASH, payment.amount_minor, Entry.RELEASE),
            ],
            transaction=tx,
            ref_type="withdrawal",
            ref_id=str(payment.pk),
        )
    Transaction.objects.filter(pk=tx.pk).update(
        status=Transaction.Status.FAILED,
        updated_at=now,
        processing_attempts=tx.processing_attempts + 1,
        last_error=reason[:2000],
        external_reference=payment.provider_transaction_id,
    )
    Payment.objects.filter(pk=payment.pk).update(
        status=Payment.Status.FAILED, failure_reason=reason[:255], completed_at=now, updated_at=now
    )
    payment.status = Payment.Status.FAILED
    publish(
        "payments.failed",
        {
            "payment_id": payment.pk,
            "user_id": payment.user_id,
            "direction": payment.direction,
            "amount": minor_to_decimal(payment.amount_minor),
            "currency": payment.currency,
            "provider": payment.provider,
            "reason": reason,
        },
    )
    verb = "Deposit" if payment.direction == Payment.Direction.DEPOSIT else "Withdrawal"
    notify(
        payment.user_id,
        {
            "kind": "wallet",
            "event": "payments.failed",
            "message": f"{verb} failed: {reason}",
            "payment_id": payment.pk,
        },
    )


def payment_apply_outcome(*, payment_id: int, outcome: str, reason: str = "") -> str:
    """Apply a provider outcome to a payment exactly once; return what happened.

    Terminal states never change again, so duplicates and late or out-of-order events are
    recorded without effect ("already succeeded" etc.).
    """
    with transaction.atomic():
        payment = lock_payment(payment_id=payment_id)
        if payment is None:
            raise NotFound("No such payment.")
        return _apply_outcome_locked(payment=payment, outcome=outcome, reason=reason)


def _apply_outcome_locked(*, payment: Payment, outcome: str, reason: str) -> str:
    if payment.is_terminal:
        return f"already {payment.status}"
    if outcome == "processing":
        if payment.status == Payment.Status.PENDING:
            Payment.objects.filter(pk=payment.pk).update(
                status=Payment.Status.PROCESSING, updated_at=timezone.now()
            )
            payment.status = Payment.Status.PROCESSING
            return "processing"
        return "no change"
    if outcome == "succeeded":
        _succeed_payment(payment=payment)
        return "succeeded"
    if outcome == "failed":
        _fail_payment(payment=payment, reason=reason or "declined by the provider")
        return "failed"
    return "ignored"


def wallet_deposit_complete(*, payment: Payment) -> Transaction:
    """Credit a deposit the provider confirmed (the webhook path calls this through
    `payment_apply_outcome`; tests and the demo may call it directly)."""
    payment_apply_outcome(payment_id=payment.pk, outcome="succeeded")
    return Transaction.objects.get(payment_id=payment.pk, type=Transaction.Type.DEPOSIT)


# --- withdrawals ---------------------------------------------------------------------------


def wallet_withdraw(
    *, user, amount_minor: int, currency: str = "USD", provider: str | None = None, idempotency_key: str = ""
) -> Payment:
    """Hold the amount at once (cash to holds) and ask the provider to pay it out. The
    provider's answer (webhook) sends the held funds out or releases them back to cash."""
    from wallet.providers import get_provider

    _check_amount(amount_minor)
    _check_currency(currency)
    if user.is_suspended or not user.is_active:
        raise ApplicationError("This account is suspended.", code="account_suspended", status=403)
    gateway = get_provider(provider)
    with transaction.atomic():
        lock_user_accounts(user_id=user.pk, currency=currency)
        existing = _existing_payment(
            user=user,
            idempotency_key=idempotency_key,
            direction=Payment.Direction.WITHDRAWAL,
            amount_minor=amount_minor,
            currency=currency,
        )
        if existing is not None:
            return existing
        payment = Payment.objects.create(
            user=user,
            direction=Payment.Direction.WITHDRAWAL,
            amount_minor=amount_minor,
            currency=currency,
            provider=gateway.name,
            idempotency_key=idempotency_key,
        )
        book(
            user_id=user.pk,
            currency=currency,
            legs=[Leg(CASH, -amount_minor, Entry.HOLD), Leg(HOLDS, amount_minor, Entry.HOLD)],
            type=Transaction.Type.WITHDRAWAL,
            status=Transaction.Status.PENDING,
            amount_minor=amount_minor,
            payment=payment,
            idempotency_key=idempotency_key,
            ref_type="withdrawal",
            ref_id=str(payment.pk),
        )
        started = gateway.start_withdrawal(payment)
        Payment.objects.filter(pk=payment.pk).update(
            provider_transaction_id=started.provider_transaction_id, updated_at=timezone.now()
        )
        payment.provider_transaction_id = started.provider_transaction_id
    return payment


# --- deposit limits ------------------------------------------------------------------------


@transaction.atomic
def deposit_limit_set(*, user, period: str, amount_minor: int | None, currency: str = "USD") -> DepositLimit:
    """Set a deposit limit. A lower limit applies at once; a higher one, or removing the
    limit, applies after a 24-hour cooling-off (and a pending raise is replaced)."""
    if period not in DepositLimit.Period.values:
        raise ApplicationError(
            "Unknown limit period.",
            code="validation_error",
            details={"period": [f"Choose one of {DepositLimit.Period.values}."]},
        )
    if amount_minor is not None:
        _check_amount(amount_minor, allow_zero=True)
    _check_currency(currency)
    lock_user_accounts(user_id=user.pk, currency=currency)
    limit, _created = DepositLimit.objects.select_for_update().get_or_create(
        user=user, period=period, currency=currency
    )
    now = timezone.now()
    current = effective_limit(limit, now=now)
    if limit.pending_effective_at is not None and limit.pending_effective_at <= now:
        limit.amount_minor = current  # the cooling-off is over: make the raise permanent
    limit.pending_amount_minor = None
    limit.pending_is_removal = False
    limit.pending_effective_at = None
    is_decrease = amount_minor is not None and (current is None or amount_minor <= current)
    if is_decrease or (current is None and amount_minor is None):
        limit.amount_minor = amount_minor
    else:
        limit.pending_amount_minor = amount_minor
        limit.pending_is_removal = amount_minor is None
        limit.pending_effective_at = now + COOLING_OFF
    limit.updated_at = now
    limit.save()
    return limit


def idempotency_keys_prune(*, older_than: timedelta = timedelta(hours=24)) -> int:
    """Delete idempotency keys older than `older_than` (at least 24 hours are kept)."""
    from wallet.models import IdempotencyKey

    older_than = max(older_than, timedelta(hours=24))
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
