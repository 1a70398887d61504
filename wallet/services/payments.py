"""Provider outcomes: a payment's success or failure applied exactly once, under its row lock."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from betthat.core.errors import ApplicationError, NotFound
from betthat.core.outbox import publish
from betthat.core.realtime import notify
from betthat.core.serializers import minor_to_decimal
from betthat.users import preferences
from wallet.ledger import Leg, book
from wallet.locks import lock_payment, lock_user_accounts
from wallet.models import Payment, Transaction
from wallet.services.common import (
    CASH,
    CLEARING,
    HOLDS,
    Entry,
    _completed,
)

if TYPE_CHECKING:
    from betthat.users.models import User


def _open_payment(
    *,
    user: User,
    direction: str,
    amount_minor: int,
    currency: str,
    provider: str,
    idempotency_key: str,
    check: Callable[[], None] = lambda: None,
) -> tuple[Payment, bool]:
    """In the caller's transaction, under the user's account lock (taken here, so two starts
    of one user are serialised): the payment of this idempotency key if there is one (409
    `idempotency_conflict` if it was for something else), else a new one, after `check`
    (e.g. the deposit limits). Returns (payment, created)."""
    lock_user_accounts(user_id=user.pk, currency=currency)
    existing = (
        Payment.objects.filter(user_id=user.pk, idempotency_key=idempotency_key).first()
        if idempotency_key
        else None
    )
    if existing is not None:
        if (existing.direction, existing.amount_minor, existing.currency) != (
            direction,
            amount_minor,
            currency,
        ):
            raise ApplicationError(
                "This idempotency key was used for a different request.",
                code="idempotency_conflict",
                status=409,
            )
        return existing, False
    check()
    payment = Payment.objects.create(
        user=user,
        direction=direction,
        amount_minor=amount_minor,
        currency=currency,
        provider=provider,
        idempotency_key=idempotency_key,
    )
    return payment, True


def wants_deposit_notifications(stored: object) -> bool:
    """The user's choice for deposit messages (the typed preference `notify_deposits`, on
    by default; a missing, malformed or older stored shape reads the same way)."""
    return preferences.read(stored).notify_deposits


def _notify_payment(payment: Payment, *, event: str, message: str) -> None:
    """Tell the user on their socket that a payment finished, unless it is a deposit and they
    turned deposit messages off. (The wallet page shows the outcome either way.)"""
    if payment.direction == Payment.Direction.DEPOSIT:
        preferences = (
            get_user_model().objects.filter(pk=payment.user_id).values_list("preferences", flat=True).first()
        )
        if not wants_deposit_notifications(preferences):
            return
    notify(payment.user_id, {"kind": "wallet", "event": event, "message": message, "payment_id": payment.pk})


def _payment_mark_failed(*, payment_id: int, reason: str) -> None:
    with transaction.atomic():
        payment = lock_payment(payment_id=payment_id)
        if payment is not None and not payment.is_terminal:
            _fail_payment(payment=payment, reason=reason)


def _payment_payload(payment: Payment) -> dict[str, Any]:
    """What `payments.succeeded` and `payments.failed` events say about the payment."""
    return {
        "payment_id": payment.pk,
        "user_id": payment.user_id,
        "direction": payment.direction,
        "amount": minor_to_decimal(payment.amount_minor),
        "currency": payment.currency,
        "provider": payment.provider,
    }


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
    publish("payments.succeeded", {**_payment_payload(payment), "transaction_id": tx.pk})
    _completed(tx)
    verb = "Deposit" if payment.direction == Payment.Direction.DEPOSIT else "Withdrawal"
    _notify_payment(
        payment,
        event="payments.succeeded",
        message=f"{verb} of {minor_to_decimal(payment.amount_minor)} {payment.currency} succeeded.",
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
    publish("payments.failed", {**_payment_payload(payment), "reason": reason})
    verb = "Deposit" if payment.direction == Payment.Direction.DEPOSIT else "Withdrawal"
    _notify_payment(payment, event="payments.failed", message=f"{verb} failed: {reason}")


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
