"""Stripe: deposits through Checkout Sessions (a hosted page, like the sandbox's checkout) or
PaymentIntents, withdrawals as Payouts, answers by signed webhooks.

The webhook signature is verified by `stripe.WebhookSignature.verify_header` on the raw body
with the endpoint secret and a 300-second tolerance; the body is then parsed strictly (a
malformed signed event is a 400, never a 500). Our payment id travels in the objects'
metadata, so an event finds its payment without trusting anything unsigned.

Errors: a 4xx from Stripe (invalid request, permission, authentication, card) means Stripe did
not act: `ProviderRefused`. A connection error, rate limit or Stripe-side error may or may not
have acted: `ProviderUnavailable`; a retry with the same idempotency key
(`betthat-payment-<id>`) is safe.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import stripe
from django.conf import settings

from wallet.providers import (
    DISPUTE_CLOSED,
    MAX_EVENT_ID_LENGTH,
    MAX_PROVIDER_ID_LENGTH,
    WEBHOOK_TOLERANCE_SECONDS,
    ProviderEvent,
    ProviderRefused,
    ProviderUnavailable,
    StartResult,
    amount_field,
    invalid_signature,
    load_json_object,
    parse_error,
    payment_id_field,
    text_field,
)

if TYPE_CHECKING:
    from wallet.models import Payment

SIGNATURE_HEADER = "Stripe-Signature"
OUTCOMES = {
    "payment_intent.processing": "processing",
    "payment_intent.succeeded": "succeeded",
    "payment_intent.payment_failed": "failed",
    "payment_intent.canceled": "failed",
    "payout.paid": "succeeded",
    "payout.failed": "failed",
    "payout.canceled": "failed",
}
# Events that take a completed deposit back (wallet/services/reversals.py).
REVERSAL_EVENTS = {
    "charge.refunded": "refund",
    "charge.dispute.created": "dispute_opened",
    "charge.dispute.closed": "dispute_closed",  # won or lost, by the dispute's status
}
DEFINITE_REFUSALS = (
    stripe.InvalidRequestError,
    stripe.CardError,
    stripe.PermissionError,
    stripe.AuthenticationError,
)  # not IdempotencyError: a 409 for a request with the same key still in flight


def _provider_error(error: Exception) -> ProviderRefused | ProviderUnavailable:
    details = {"provider": "stripe", "reason": str(error)[:200]}
    if isinstance(error, DEFINITE_REFUSALS):
        return ProviderRefused("The payment provider refused the request.", details=details)
    return ProviderUnavailable(
        "The payment provider could not be reached; please try again.", details=details
    )


def _metadata(payment: Payment) -> dict[str, str]:
    return {"payment_id": str(payment.pk), "user_id": str(payment.user_id)}


class StripeProvider:
    name = "stripe"

    def _client(self) -> stripe.StripeClient:
        if not settings.STRIPE_API_KEY:
            # Nothing was sent, so nothing can have happened at Stripe: a definite refusal.
            raise ProviderRefused(
                "Stripe is not configured.",
                code="provider_unavailable",
                status=503,
                details={"provider": "stripe"},
            )
        return stripe.StripeClient(settings.STRIPE_API_KEY)

    def start_deposit(self, payment: Payment, *, return_url: str = "") -> StartResult:
        """With a `return_url` (the pages and the API give one): a Checkout Session, whose
        hosted page is the `checkout_url`; the PaymentIntent it creates carries our metadata.
        Without: a bare PaymentIntent for a client that confirms it with Stripe.js."""
        options: Any = {"idempotency_key": f"betthat-payment-{payment.pk}"}
        try:
            if return_url:
                session = self._client().checkout.sessions.create(
                    params={
                        "mode": "payment",
                        "line_items": [
                            {
                                "quantity": 1,
                                "price_data": {
                                    "currency": payment.currency.lower(),
                                    "unit_amount": payment.amount_minor,
                                    "product_data": {"name": "Bet-That wallet deposit"},
                                },
                            }
                        ],
                        "client_reference_id": str(payment.pk),
                        "metadata": _metadata(payment),
                        "payment_intent_data": {"metadata": _metadata(payment)},
                        "success_url": return_url,
                        "cancel_url": return_url,
                    },
                    options=options,
                )
                return StartResult(provider_transaction_id=session.id, checkout_url=session.url or "")
            intent = self._client().payment_intents.create(
                params={
                    "amount": payment.amount_minor,
                    "currency": payment.currency.lower(),
                    "metadata": _metadata(payment),
                    "automatic_payment_methods": {"enabled": True},
                },
                options=options,
            )
        except stripe.StripeError as error:
            raise _provider_error(error) from error
        return StartResult(provider_transaction_id=intent.id)

    def start_withdrawal(self, payment: Payment) -> StartResult:
        try:
            payout = self._client().payouts.create(
                params={
                    "amount": payment.amount_minor,
                    "currency": payment.currency.lower(),
                    "metadata": _metadata(payment),
                },
                options={"idempotency_key": f"betthat-payment-{payment.pk}"},
            )
        except stripe.StripeError as error:
            raise _provider_error(error) from error
        return StartResult(provider_transaction_id=payout.id)

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        secret = settings.STRIPE_WEBHOOK_SECRET
        if not secret:
            raise invalid_signature("Stripe webhooks are not configured.")
        try:
            stripe.WebhookSignature.verify_header(
                body.decode("utf-8"),
                headers.get(SIGNATURE_HEADER, ""),
                secret,
                tolerance=WEBHOOK_TOLERANCE_SECONDS,
            )
        except stripe.SignatureVerificationError as error:
            raise invalid_signature(
                f"Stripe signature check failed: {error.user_message or error}"
            ) from error
        except UnicodeDecodeError as error:
            raise parse_error("The webhook body is not valid JSON.") from error
        event = load_json_object(body)
        event_type = text_field(event.get("type"), name="type", max_length=64)
        data = event.get("data")
        obj = data.get("object") if isinstance(data, dict) else None
        if not isinstance(obj, dict):
            raise parse_error("The event has no data object.")
        metadata = obj.get("metadata") or {}
        if not isinstance(metadata, dict):
            raise parse_error("The event's metadata is not an object.")
        payment_id = payment_id_field(metadata["payment_id"]) if metadata.get("payment_id") else None
        reason = ""
        if event_type == "payment_intent.payment_failed":
            error_info = obj.get("last_payment_error") or {}
            reason = (error_info.get("message") if isinstance(error_info, dict) else None) or "payment failed"
        elif event_type.startswith("payout.") and event_type != "payout.paid":
            reason = obj.get("failure_message") or "payout failed"
        amount = obj.get("amount")
        outcome = OUTCOMES.get(event_type, "ignored")
        reference = ""
        provider_transaction_id = text_field(
            obj.get("id"), name="object id", max_length=MAX_PROVIDER_ID_LENGTH, required=False
        )
        if event_type in REVERSAL_EVENTS:
            # A refund or a dispute of a deposit: the Charge (or Dispute) names its PaymentIntent.
            reference = provider_transaction_id
            provider_transaction_id = text_field(
                obj.get("payment_intent"),
                name="payment_intent",
                max_length=MAX_PROVIDER_ID_LENGTH,
                required=False,
            )
            outcome = REVERSAL_EVENTS[event_type]
            if event_type == "charge.refunded":
                amount = obj.get("amount_refunded")
                reason = "refunded by Stripe"
            elif event_type == "charge.dispute.closed":
                status = obj.get("status")
                outcome = DISPUTE_CLOSED.get(status if isinstance(status, str) else "", "ignored")
                reason = f"dispute closed: {status}" if isinstance(status, str) else "dispute closed"
            else:
                reason = (
                    text_field(obj.get("reason"), name="reason", max_length=200, required=False) or "disputed"
                )
        return ProviderEvent(
            event_id=text_field(event.get("id"), name="id", max_length=MAX_EVENT_ID_LENGTH),
            event_type=event_type,
            outcome=outcome,
            payment_id=payment_id,
            provider_transaction_id=provider_transaction_id,
            reference=reference,
            amount_minor=None if amount is None else amount_field(amount),
            currency=text_field(obj.get("currency"), name="currency", max_length=3, required=False).upper(),
            reason=text_field(reason, name="reason", max_length=2000, required=False),
            payload=event,
        )
