"""Deposits: opened here, credited only when the provider says the money arrived."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from betthat.core.errors import ApplicationError
from betthat.users.compliance import check_capability, check_not_frozen
from wallet.models import Payment, Transaction
from wallet.providers import get_provider
from wallet.services.common import (
    _check_amount,
    _check_currency,
)
from wallet.services.limits import _check_deposit_limits, _check_may_deposit
from wallet.services.payments import _open_payment, _payment_mark_failed

if TYPE_CHECKING:
    from betthat.users.models import User


def wallet_deposit_start(
    *,
    user: User,
    amount_minor: int,
    currency: str = "USD",
    provider: str | None = None,
    idempotency_key: str = "",
    return_url: str = "",
) -> Payment:
    """Open a deposit with the payment provider (default: the configured one). Money moves
    only when the provider's webhook says it succeeded (`payment_webhook_receive`). Refuses a
    self-excluded or suspended user (403), an account below the verification level for
    deposits (403 `verification_required`) and a deposit over a limit (409
    `limit_exceeded`). `return_url` is where a hosted checkout sends the user back to."""
    _check_amount(amount_minor)
    _check_currency(currency)
    _check_may_deposit(user)
    check_capability(user, "deposit")
    check_not_frozen(user)
    gateway = get_provider(provider)
    with transaction.atomic():
        payment, created = _open_payment(
            user=user,
            direction=Payment.Direction.DEPOSIT,
            amount_minor=amount_minor,
            currency=currency,
            provider=gateway.name,
            idempotency_key=idempotency_key,
            check=lambda: _check_deposit_limits(user=user, amount_minor=amount_minor, currency=currency),
        )
        if not created:
            return payment
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
        started = gateway.start_deposit(payment, return_url=return_url)
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
