"""Stripe: deposits as PaymentIntents, withdrawals as Payouts, answers by signed webhooks.

The webhook is verified by `stripe.Webhook.construct_event` on the raw body with the
endpoint secret and a 300-second tolerance. Our payment id travels in the objects'
metadata, so an event finds its payment without trusting anything unsigned.
"""

from __future__ import annotations

from collections.abc import Mapping

import stripe
from django.conf import settings

from betthat.core.errors import ApplicationError
from wallet.providers import WEBHOOK_TOLERANCE_SECONDS, ProviderEvent, StartResult, invalid_signature

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


def _provider_error(error: Exception) -> ApplicationError:
    return ApplicationError(
        "The payment provider could not be reached; please try again.",
        code="provider_unavailable",
        status=503,
        details={"provider": "stripe", "reason": str(error)[:200]},
    )


class StripeProvider:
    name = "stripe"

    def _client(self) -> stripe.StripeClient:
        if not settings.STRIPE_API_KEY:
            raise ApplicationError(
                "Stripe is not configured.",
                code="provider_unavailable",
                status=503,
                details={"provider": "stripe"},
            )
        return stripe.StripeClient(settings.STRIPE_API_KEY)

    def start_deposit(self, payment) -> StartResult:
        try:
            intent = self._client().payment_intents.create(
                params={
                    "amount": payment.amount_minor,
                    "currency": payment.currency.lower(),
                    "metadata": {"payment_id": str(payment.pk), "user_id": str(payment.user_id)},
                    "automatic_payment_methods": {"enabled": True},
                },
                options={"idempotency_key": f"betthat-payment-{payment.pk}"},
            )
        except stripe.StripeError as error:
            raise _provider_error(error) from error
        return StartResult(provider_transaction_id=intent.id, checkout_url="", provider_customer_id="")

    def start_withdrawal(self, payment) -> StartResult:
        try:
            payout = self._client().payouts.create(
                params={
                    "amount": payment.amount_minor,
                    "currency": payment.currency.lower(),
                    "metadata": {"payment_id": str(payment.pk), "user_id": str(payment.user_id)},
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
            event = stripe.Webhook.construct_event(
                body.decode("utf-8"),
                headers.get(SIGNATURE_HEADER, ""),
                secret,
                tolerance=WEBHOOK_TOLERANCE_SECONDS,
            )
        except stripe.SignatureVerificationError as error:
            raise invalid_signature(
                f"Stripe signature check failed: {error.user_message or error}"
            ) from error
        except (ValueError, UnicodeDecodeError) as error:
            raise ApplicationError("The webhook body is not valid JSON.", code="parse_error") from error
        event = event.to_dict()  # plain dicts from here on
        obj = event["data"]["object"]
        metadata = obj.get("metadata") or {}
        try:
            payment_id = int(metadata["payment_id"]) if metadata.get("payment_id") else None
        except ValueError:
            payment_id = None
        reason = ""
        if event["type"] == "payment_intent.payment_failed":
            reason = ((obj.get("last_payment_error") or {}).get("message")) or "payment failed"
        elif event["type"].startswith("payout.") and event["type"] != "payout.paid":
            reason = obj.get("failure_message") or "payout failed"
        return ProviderEvent(
            event_id=event["id"],
            event_type=event["type"],
            outcome=OUTCOMES.get(event["type"], "ignored"),
            payment_id=payment_id,
            provider_transaction_id=str(obj.get("id", "")),
            amount_minor=int(obj["amount"]) if obj.get("amount") is not None else None,
            currency=str(obj.get("currency", "")).upper(),
            reason=reason,
            payload=event,
        )
