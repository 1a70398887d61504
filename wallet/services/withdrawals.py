"""Withdrawals: the amount is held at once and paid out on the provider's answer."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from betthat.core.errors import ApplicationError
from wallet.ledger import Leg, book
from wallet.locks import lock_user_accounts
from wallet.models import Payment, Transaction
from wallet.services.common import (
    CASH,
    HOLDS,
    Entry,
    _check_amount,
    _check_currency,
)
from wallet.services.payments import _existing_payment


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
