"""Withdrawals: reserve, commit, call the provider, then book its answer.

1. **Reserve** (one database transaction): the user's accounts are locked, the payment row is
   created and the amount is held (cash to holds, a pending WITHDRAWAL transaction). Commit.
2. **Call** the provider with no transaction open and no row locked: a slow or failing
   provider holds up nobody else's money.
3. **Book** what it said, idempotently:
   - accepted: its payout id is recorded; its webhook later pays the hold out (capture) or
     releases it (`wallet.services.payments`);
   - refused for certain (a 4xx from it, `ProviderRefused`): the hold is released and the
     payment fails, at most once (the payment row lock and its terminal state);
   - unreachable or its own error (`ProviderUnavailable`: it may have acted): the hold stays,
     the attempt is counted, and `withdrawals_resubmit_due` (a periodic task) asks again with
     the same idempotency key, so the provider pays at most once and the ledger follows it.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from betthat.core.errors import ApplicationError
from betthat.users.compliance import check_capability, check_not_frozen
from wallet.ledger import Leg, book
from wallet.models import Payment, Transaction
from wallet.providers import PaymentProvider, ProviderRefused, ProviderUnavailable, get_provider
from wallet.services.common import CASH, HOLDS, Entry, _check_amount, _check_currency
from wallet.services.payments import _open_payment, _payment_mark_failed

if TYPE_CHECKING:
    from betthat.users.models import User

logger = logging.getLogger(__name__)
# Longer than any provider call can take (Stripe's client times out after 80 s), so a first
# call still in flight is not raced by its resubmission.
RESUBMIT_AFTER = timedelta(minutes=5)


def _withdrawal_reserve(
    *, user: User, amount_minor: int, currency: str, provider: str, idempotency_key: str
) -> tuple[Payment, bool]:
    """Hold the amount and create the payment in one transaction; (payment, created). A
    replayed idempotency key returns the first payment and creates nothing."""
    with transaction.atomic():
        payment, created = _open_payment(
            user=user,
            direction=Payment.Direction.WITHDRAWAL,
            amount_minor=amount_minor,
            currency=currency,
            provider=provider,
            idempotency_key=idempotency_key,
        )
        if not created:
            return payment, False
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
    return payment, True


def _withdrawal_submit(*, payment: Payment, gateway: PaymentProvider) -> None:
    """Ask the provider to pay out a reserved withdrawal and book its answer (see the module
    docstring). Must run outside any transaction: it is a network call."""
    try:
        started = gateway.start_withdrawal(payment)
    except ProviderRefused as error:
        _payment_mark_failed(
            payment_id=payment.pk, reason=f"the provider refused the payout: {error.message}"
        )
        payment.refresh_from_db()
        raise
    except ProviderUnavailable as error:
        Transaction.objects.filter(payment_id=payment.pk, type=Transaction.Type.WITHDRAWAL).update(
            processing_attempts=F("processing_attempts") + 1,
            last_error=f"payout not confirmed by the provider: {error.message}"[:2000],
            updated_at=timezone.now(),
        )
        logger.warning("withdrawal %s: provider unavailable, will resubmit: %s", payment.pk, error.message)
        return
    # Recorded once: a webhook that already finished the payment keeps its own id.
    Payment.objects.filter(pk=payment.pk, provider_transaction_id="").update(
        provider_transaction_id=started.provider_transaction_id, updated_at=timezone.now()
    )
    payment.provider_transaction_id = started.provider_transaction_id
    Transaction.objects.filter(payment_id=payment.pk, type=Transaction.Type.WITHDRAWAL).update(
        processing_attempts=F("processing_attempts") + 1, updated_at=timezone.now()
    )


def wallet_withdraw(
    *,
    user: User,
    amount_minor: int,
    currency: str = "USD",
    provider: str | None = None,
    idempotency_key: str = "",
) -> Payment:
    """Hold the amount at once (cash to holds), then ask the provider to pay it out, with no
    lock held during the call. Refuses a suspended account (403 `account_suspended`), an
    account below the verification level for withdrawals (403 `verification_required`),
    insufficient funds (409), and a payout the provider refuses (the hold is released first).
    A provider that cannot be reached leaves the payment pending (held) for a resubmission."""
    _check_amount(amount_minor)
    _check_currency(currency)
    if user.is_suspended or not user.is_active:
        raise ApplicationError("This account is suspended.", code="account_suspended", status=403)
    check_capability(user, "withdraw")
    check_not_frozen(user)  # the ledger trigger refuses the hold anyway; this says it first
    gateway = get_provider(provider)
    payment, created = _withdrawal_reserve(
        user=user,
        amount_minor=amount_minor,
        currency=currency,
        provider=gateway.name,
        idempotency_key=idempotency_key,
    )
    if created:
        _withdrawal_submit(payment=payment, gateway=gateway)
    return payment


def withdrawals_resubmit_due() -> int:
    """Ask the provider again for every held withdrawal it never confirmed receiving (no
    provider id, older than RESUBMIT_AFTER, fewer than WALLET_WITHDRAWAL_SUBMIT_ATTEMPTS tries);
    the same idempotency key makes a second payout impossible. Returns how many were asked."""
    cutoff = timezone.now() - RESUBMIT_AFTER
    due = list(
        Payment.objects.filter(
            direction=Payment.Direction.WITHDRAWAL,
            status__in=[Payment.Status.PENDING, Payment.Status.PROCESSING],
            provider_transaction_id="",
            created_at__lt=cutoff,
            transactions__type=Transaction.Type.WITHDRAWAL,
            transactions__processing_attempts__lt=settings.WALLET_WITHDRAWAL_SUBMIT_ATTEMPTS,
        ).order_by("pk")[:100]
    )
    for payment in due:
        try:
            _withdrawal_submit(payment=payment, gateway=get_provider(payment.provider))
        except ApplicationError as error:  # refused: already released and failed by the submit
            logger.info("withdrawal %s refused on resubmission: %s", payment.pk, error.message)
    return len(due)
