"""Receiving payment-provider webhooks: verify, record once, apply once.

The event id is recorded (unique per provider) in the same database transaction as its
effect, under the payment's row lock. A duplicate delivery, concurrent or late, finds the
id taken and changes nothing; an out-of-order event meets a payment already in a terminal
state and is recorded without effect.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction

from betthat.core.errors import ApplicationError
from wallet.locks import lock_payment
from wallet.models import Payment, WebhookEvent
from wallet.providers import REVERSAL_OUTCOMES, ProviderEvent, get_provider, provider_names
from wallet.services.payments import _apply_outcome_locked
from wallet.services.reversals import Reversal, payment_reversal_apply_locked


def _record_event(*, provider: str, event: ProviderEvent, payment_id: int | None) -> int | None:
    """Insert the event row; None when this provider event id was already recorded."""
    payload = json.dumps(event.payload, cls=DjangoJSONEncoder)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO wallet_webhookevent (provider, event_id, event_type, payment_id, payload, outcome, received_at)
            VALUES (%s, %s, %s, %s, %s::jsonb, '', now())
            ON CONFLICT (provider, event_id) DO NOTHING
            RETURNING id
            """,
            [provider, event.event_id, event.event_type[:64], payment_id, payload],
        )
        row = cursor.fetchone()
    return row[0] if row else None


def payment_webhook_receive(*, provider: str, body: bytes, headers: Mapping[str, str]) -> dict[str, Any]:
    """Verify and apply one webhook delivery; return {"event_id", "outcome", "duplicate"}.

    401 `invalid_signature` for a forged or stale delivery (nothing is recorded).
    """
    if provider not in provider_names():
        raise ApplicationError(f"Unknown payment provider {provider!r}.", code="not_found", status=404)
    event = get_provider(provider).parse_webhook(body=body, headers=headers)
    with transaction.atomic():
        payment = None
        if event.payment_id is not None:
            payment = lock_payment(payment_id=event.payment_id)
        elif event.provider_transaction_id:
            found = (
                Payment.objects.filter(
                    provider=provider, provider_transaction_id=event.provider_transaction_id
                )
                .values_list("pk", flat=True)
                .first()
            )
            if found is None:
                # A refund or dispute names the PaymentIntent; a Checkout Session deposit is
                # stored under the session's id, and its PaymentIntent is in the events we took.
                found = (
                    WebhookEvent.objects.filter(
                        provider=provider,
                        payment__isnull=False,
                        payload__data__object__id=event.provider_transaction_id,
                    )
                    .values_list("payment_id", flat=True)
                    .first()
                )
            payment = lock_payment(payment_id=found) if found else None
        if payment is not None and payment.provider != provider:
            payment = None
        event_row = _record_event(provider=provider, event=event, payment_id=payment.pk if payment else None)
        if event_row is None:
            return {"event_id": event.event_id, "outcome": "duplicate", "duplicate": True}
        if payment is None:
            outcome = "ignored: unknown payment"
        elif event.outcome in REVERSAL_OUTCOMES:
            if (event.currency and event.currency != payment.currency) or (
                event.outcome in ("refund", "dispute_opened")
                and not (event.amount_minor and 0 < event.amount_minor <= payment.amount_minor)
            ):
                outcome = "ignored: amount or currency mismatch"
            else:
                outcome = payment_reversal_apply_locked(
                    payment=payment,
                    reversal=Reversal(
                        kind=event.outcome,
                        reference=event.reference,
                        amount_minor=event.amount_minor or 0,
                        reason=event.reason,
                    ),
                )
        elif event.outcome in ("succeeded", "failed") and (
            (event.amount_minor is not None and event.amount_minor != payment.amount_minor)
            or (event.currency and event.currency != payment.currency)
        ):
            outcome = "ignored: amount or currency mismatch"
        else:
            outcome = _apply_outcome_locked(payment=payment, outcome=event.outcome, reason=event.reason)
        WebhookEvent.objects.filter(pk=event_row).update(outcome=outcome[:64])
    return {"event_id": event.event_id, "outcome": outcome, "duplicate": False}
