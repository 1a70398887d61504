"""The built-in sandbox payment provider: behaves like a real one, without a network.

- Deposits get a checkout page (`/wallet/sandbox/checkout/<payment id>/`) where the user
  "pays" with one of the documented test cards (`TEST_CARDS`; any other number is refused):

  | card | result |
  |---|---|
  | 4242 4242 4242 4242 | paid |
  | 4000 0000 0000 0002 | declined (card declined) |
  | 4000 0000 0000 9995 | declined (insufficient funds) |

- Withdrawals are paid out asynchronously; an amount ending in .13 is declined.
- The answer arrives as webhooks, asynchronously (a Celery task), each signed with HMAC-SHA256
  over "<timestamp>.<raw body>" in the `Sandbox-Signature: t=<unix>,v1=<hex>` header, exactly
  like Stripe's scheme. A `processing` event precedes the final `succeeded` or `failed` one.
- On request, every event is delivered several times and/or the final one first, to prove
  that the webhook endpoint credits once whatever the delivery order.

The sandbox exists only where it is chosen (`PAYMENTS_PROVIDER=sandbox`); with `DEBUG=false`
the site refuses to start with it unless `SANDBOX_ALLOWED_WITHOUT_DEBUG=true` and a
`SANDBOX_WEBHOOK_SECRET` of its own are set (system checks `wallet.E001`/`E002`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import time
import uuid
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.urls import reverse

from betthat.core.errors import ApplicationError
from wallet.money import minor_cents
from wallet.providers import (
    DISPUTE_CLOSED,
    MAX_EVENT_ID_LENGTH,
    MAX_PROVIDER_ID_LENGTH,
    WEBHOOK_TOLERANCE_SECONDS,
    ProviderEvent,
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

logger = logging.getLogger(__name__)

SIGNATURE_HEADER = "Sandbox-Signature"
SUCCESS_CARD = "4242424242424242"
DECLINE_CARD = "4000000000000002"
INSUFFICIENT_FUNDS_CARD = "4000000000009995"
# Every card number the sandbox knows: (outcome, reason). Nothing else is a card.
TEST_CARDS: dict[str, tuple[str, str]] = {
    SUCCESS_CARD: ("succeeded", ""),
    DECLINE_CARD: ("failed", "card declined (sandbox test card)"),
    INSUFFICIENT_FUNDS_CARD: ("failed", "insufficient funds (sandbox test card)"),
}
DECLINED_WITHDRAWAL_CENTS = 13
OUTCOMES = {
    "payment.processing": "processing",
    "payment.succeeded": "succeeded",
    "payment.failed": "failed",
    # A deposit taken back, named like Stripe's events (wallet/services/reversals.py).
    "charge.refunded": "refund",
    "charge.dispute.created": "dispute_opened",
    "charge.dispute.closed": "dispute_closed",
}


def sign(body: bytes, *, timestamp: int | None = None, secret: str | None = None) -> str:
    """`Sandbox-Signature` for `body` (with the configured secret unless one is given)."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    secret = settings.SANDBOX_WEBHOOK_SECRET if secret is None else secret
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify(body: bytes, header: str, *, now: float | None = None) -> None:
    """Raise 401 `invalid_signature` unless `header` signs `body` within the tolerance.
    Without a configured secret nothing verifies (no default secret outside development)."""
    if not settings.SANDBOX_WEBHOOK_SECRET:
        raise invalid_signature("Sandbox webhooks are not configured (no SANDBOX_WEBHOOK_SECRET).")
    parts: dict[str, list[str]] = {}
    for item in (header or "").split(","):
        name, _, value = item.strip().partition("=")
        parts.setdefault(name, []).append(value)
    try:
        timestamp = int(parts["t"][0])
    except (KeyError, ValueError, IndexError):
        raise invalid_signature("The webhook signature header is missing or malformed.") from None
    now = time.time() if now is None else now
    if abs(now - timestamp) > WEBHOOK_TOLERANCE_SECONDS:
        raise invalid_signature("The webhook timestamp is outside the 300-second tolerance.")
    expected = sign(body, timestamp=timestamp).split("v1=", 1)[1]
    if not any(hmac.compare_digest(expected, candidate) for candidate in parts.get("v1", [])):
        raise invalid_signature("The webhook signature does not match.")


def build_events(payment: Payment, *, outcome: str, reason: str = "") -> list[dict[str, Any]]:
    """The events a real provider would send for this payment: processing, then the outcome."""
    data = {
        "payment_id": payment.pk,
        "provider_transaction_id": payment.provider_transaction_id,
        "direction": payment.direction,
        "amount_minor": payment.amount_minor,
        "currency": payment.currency,
    }
    final = "payment.succeeded" if outcome == "succeeded" else "payment.failed"
    events = [
        {
            "id": f"evt_{uuid.uuid4().hex}",
            "type": "payment.processing",
            "created": int(time.time()),
            "data": data,
        },
        {
            "id": f"evt_{uuid.uuid4().hex}",
            "type": final,
            "created": int(time.time()),
            "data": {**data, "reason": reason} if reason else data,
        },
    ]
    return events


def delivery_plan(
    events: list[dict[str, Any]], *, duplicates: int = 1, out_of_order: bool = False
) -> list[dict[str, Any]]:
    ordered = list(reversed(events)) if out_of_order else list(events)
    return [event for event in ordered for _ in range(max(1, duplicates))]


def deliver(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Send `events` to our webhook endpoint's handler, signed now, in order."""
    from wallet.webhooks import payment_webhook_receive

    results = []
    for event in events:
        body = json.dumps(event, sort_keys=True).encode()
        try:
            results.append(
                payment_webhook_receive(provider="sandbox", body=body, headers={SIGNATURE_HEADER: sign(body)})
            )
        except ApplicationError as error:  # a refused delivery; a real provider would retry
            logger.warning("sandbox webhook %s refused: %s", event["id"], error.message)
            results.append({"error": error.code})
    return results


def schedule(events: list[dict[str, Any]], *, deliver_now: bool = False) -> None:
    """Deliver after the current transaction commits: in a Celery worker, or at once.
    With settings.SANDBOX_AUTO_DELIVER = False (tests) nothing is sent automatically: the
    caller delivers the returned plan itself with `deliver`."""
    if deliver_now:
        transaction.on_commit(lambda: deliver(events))
        return
    if not settings.SANDBOX_AUTO_DELIVER:
        return

    def enqueue() -> None:
        from wallet.tasks import deliver_sandbox_webhooks_task

        deliver_sandbox_webhooks_task.apply_async(args=[events], countdown=0.3)

    transaction.on_commit(enqueue)


def simulate(
    payment: Payment,
    *,
    outcome: str,
    reason: str = "",
    duplicates: int = 1,
    out_of_order: bool = False,
    deliver_now: bool = False,
) -> list[dict[str, Any]]:
    """Make the sandbox answer for `payment` ("succeeded" or "failed"); return the plan."""
    plan = delivery_plan(
        build_events(payment, outcome=outcome, reason=reason),
        duplicates=duplicates,
        out_of_order=out_of_order,
    )
    schedule(plan, deliver_now=deliver_now)
    return plan


def _reversal_event(
    payment: Payment, *, type: str, amount_minor: int, reference: str, **extra: Any
) -> dict[str, Any]:
    return {
        "id": f"evt_{uuid.uuid4().hex}",
        "type": type,
        "created": int(time.time()),
        "data": {
            "payment_id": payment.pk,
            "provider_transaction_id": payment.provider_transaction_id,
            "direction": payment.direction,
            "amount_minor": amount_minor,
            "currency": payment.currency,
            "reference": reference,
            **extra,
        },
    }


def refund(payment: Payment, *, refunded_minor: int | None = None) -> list[dict[str, Any]]:
    """The sandbox refunds a paid deposit (all of it unless `refunded_minor`, the cumulative
    refunded amount, says less): a `charge.refunded` event, delivered after the commit."""
    amount = payment.amount_minor if refunded_minor is None else refunded_minor
    events = [
        _reversal_event(
            payment, type="charge.refunded", amount_minor=amount, reference=f"sbx_ch_{payment.pk}"
        )
    ]
    schedule(events, deliver_now=True)
    return events


def dispute_open(payment: Payment) -> list[dict[str, Any]]:
    """The card holder disputes a paid deposit: `charge.dispute.created` for all of it."""
    events = [
        _reversal_event(
            payment,
            type="charge.dispute.created",
            amount_minor=payment.amount_minor,
            reference=f"sbx_dp_{uuid.uuid4().hex[:20]}",
            reason="fraudulent",
        )
    ]
    schedule(events, deliver_now=True)
    return events


def dispute_close(payment: Payment, *, reference: str, won: bool) -> list[dict[str, Any]]:
    """The issuer decides an open dispute: `charge.dispute.closed` with status won or lost."""
    events = [
        _reversal_event(
            payment,
            type="charge.dispute.closed",
            amount_minor=payment.amount_minor,
            reference=reference,
            status="won" if won else "lost",
        )
    ]
    schedule(events, deliver_now=True)
    return events


def checkout_submit(
    payment: Payment, *, card_number: str, duplicates: int = 1, out_of_order: bool = False
) -> str:
    """The checkout page's "Pay" button: decide like a card network; the answer comes by webhook."""
    card = "".join(ch for ch in card_number if ch != " " and ch != "-")
    if card not in TEST_CARDS:
        raise ApplicationError(
            "This is not a sandbox test card.",
            code="validation_error",
            details={
                "card_number": [
                    "Use the test card 4242 4242 4242 4242 to pay, or 4000 0000 0000 0002 "
                    "(or 4000 0000 0000 9995) to be declined."
                ]
            },
        )
    outcome, reason = TEST_CARDS[card]
    simulate(payment, outcome=outcome, reason=reason, duplicates=duplicates, out_of_order=out_of_order)
    return outcome


class SandboxProvider:
    name = "sandbox"

    def start_deposit(self, payment: Payment, *, return_url: str = "") -> StartResult:
        return StartResult(
            provider_transaction_id=f"sbx_pi_{uuid.uuid4().hex[:24]}",
            checkout_url=reverse("wallet:sandbox-checkout", args=[payment.pk]),
            provider_customer_id=f"sbx_cus_{payment.user_id}",
        )

    def start_withdrawal(self, payment: Payment) -> StartResult:
        payment.provider_transaction_id = f"sbx_po_{uuid.uuid4().hex[:24]}"
        declined = minor_cents(payment.amount_minor) == DECLINED_WITHDRAWAL_CENTS
        simulate(
            payment,
            outcome="failed" if declined else "succeeded",
            reason="payout declined by the bank (sandbox amount .13)" if declined else "",
        )
        return StartResult(provider_transaction_id=payment.provider_transaction_id)

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> ProviderEvent:
        verify(body, headers.get(SIGNATURE_HEADER, ""))
        event = load_json_object(body)
        data = event.get("data")
        if not isinstance(data, dict):
            raise parse_error("The webhook body is not a valid sandbox event.")
        event_type = text_field(event.get("type"), name="type", max_length=64)
        outcome = OUTCOMES.get(event_type, "ignored")
        if outcome == "dispute_closed":
            status = data.get("status")
            outcome = DISPUTE_CLOSED.get(status if isinstance(status, str) else "", "ignored")
        return ProviderEvent(
            event_id=text_field(event.get("id"), name="id", max_length=MAX_EVENT_ID_LENGTH),
            event_type=event_type,
            outcome=outcome,
            reference=text_field(
                data.get("reference"), name="reference", max_length=MAX_PROVIDER_ID_LENGTH, required=False
            ),
            payment_id=payment_id_field(data.get("payment_id")),
            provider_transaction_id=text_field(
                data.get("provider_transaction_id"),
                name="provider_transaction_id",
                max_length=MAX_PROVIDER_ID_LENGTH,
                required=False,
            ),
            amount_minor=amount_field(data.get("amount_minor")),
            currency=text_field(data.get("currency"), name="currency", max_length=3),
            reason=text_field(data.get("reason"), name="reason", max_length=2000, required=False),
            payload=event,
        )
