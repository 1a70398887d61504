"""Payment providers behind one interface: `get_provider(name)`.

A provider starts deposits and withdrawals (returning its own id and, for a browser flow,
a checkout URL) and turns a webhook request (raw body and headers) into a verified
`ProviderEvent`, or refuses it with 401 `invalid_signature` (bad signature, stale timestamp)
or 400 `parse_error` (anything malformed in a signed body).

Which providers exist: the configured `PAYMENTS_PROVIDER` always; Stripe always (its webhooks
are refused without `STRIPE_WEBHOOK_SECRET`); the sandbox only when it is the configured one,
so a production site that chose Stripe has no sandbox checkout page and no sandbox webhook.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from django.conf import settings

from betthat.core.errors import ApplicationError
from wallet.ledger import MAX_AMOUNT_MINOR

if TYPE_CHECKING:
    from wallet.models import Payment

WEBHOOK_TOLERANCE_SECONDS = 300
MAX_EVENT_ID_LENGTH = 128  # WebhookEvent.event_id
MAX_PROVIDER_ID_LENGTH = 128  # Payment.provider_transaction_id
MAX_PAYMENT_ID = 2**63 - 1  # a bigint primary key


@dataclass(frozen=True)
class StartResult:
    provider_transaction_id: str
    checkout_url: str = ""
    provider_customer_id: str = ""


@dataclass(frozen=True)
class ProviderEvent:
    event_id: str
    event_type: str
    # "processing", "succeeded", "failed"; for a deposit taken back "refund", "dispute_opened",
    # "dispute_won", "dispute_lost" (see REVERSAL_OUTCOMES); "ignored" for events we do not act on.
    outcome: str
    payment_id: int | None = None
    provider_transaction_id: str = ""
    amount_minor: int | None = None
    currency: str = ""
    reason: str = ""
    payload: dict[str, Any] = field(default_factory=dict)
    # The provider's id of what was taken back: the charge (refunds) or the dispute.
    reference: str = ""


# Outcomes that take a completed deposit back (wallet/services/reversals.py). For "refund",
# `amount_minor` is the provider's cumulative refunded amount.
REVERSAL_OUTCOMES = ("refund", "dispute_opened", "dispute_won", "dispute_lost")
# A closed dispute's status, as the providers spell it; any other status is ignored.
DISPUTE_CLOSED = {"won": "dispute_won", "lost": "dispute_lost"}


class ProviderRefused(ApplicationError):
    """The provider definitely did not act (a 4xx from it): safe to release a hold."""

    code = "provider_refused"
    status = 502


class ProviderUnavailable(ApplicationError):
    """The provider could not be reached or answered with an error of its own: it may or may
    not have acted, so a hold stays held until its answer (webhook) or a retry says which."""

    code = "provider_unavailable"
    status = 503


class PaymentProvider(Protocol):
    name: str

    def start_deposit(self, payment: Payment, *, return_url: str = "") -> StartResult: ...

    def start_withdrawal(self, payment: Payment) -> StartResult: ...

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> ProviderEvent: ...


def invalid_signature(message: str) -> ApplicationError:
    return ApplicationError(message, code="invalid_signature", status=401)


def parse_error(message: str) -> ApplicationError:
    return ApplicationError(message, code="parse_error", status=400)


def _refuse_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def load_json_object(body: bytes) -> dict[str, Any]:
    """A signed webhook body as a dict: strict UTF-8 and JSON (no NaN or Infinity), no NUL
    character (PostgreSQL's jsonb refuses it), an object at the top; else 400 `parse_error`."""
    try:
        text = body.decode("utf-8")
        loaded = json.loads(text, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise parse_error("The webhook body is not valid JSON.") from None
    if not isinstance(loaded, dict):
        raise parse_error("The webhook body is not a JSON object.")
    if "\x00" in text or "\\u0000" in text:
        raise parse_error("The webhook body contains a NUL character.")
    return loaded


def text_field(value: object, *, name: str, max_length: int, required: bool = True) -> str:
    """A string field of an event, refused (400) when it is not a string or too long."""
    if value is None and not required:
        return ""
    if isinstance(value, int | float) and not isinstance(value, bool) and not required:
        value = str(value)
    if not isinstance(value, str) or (required and not value):
        raise parse_error(f"The event's {name} is missing or not a string.")
    if len(value) > max_length:
        raise parse_error(f"The event's {name} is longer than {max_length} characters.")
    return value


def int_field(value: object, *, name: str, maximum: int) -> int:
    """A whole-number field (a JSON integer, or a string of ASCII digits) within 0..maximum."""
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 20:
        value = int(value)
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= maximum:
        raise parse_error(f"The event's {name} is not a whole number in range.")
    return value


def amount_field(value: object) -> int:
    return int_field(value, name="amount", maximum=MAX_AMOUNT_MINOR)


def payment_id_field(value: object) -> int:
    return int_field(value, name="payment id", maximum=MAX_PAYMENT_ID)


def sandbox_is_enabled() -> bool:
    return bool(settings.PAYMENTS_PROVIDER == "sandbox")


def provider_names() -> tuple[str, ...]:
    """The providers that exist on this site (see the module docstring)."""
    return ("sandbox", "stripe") if sandbox_is_enabled() else ("stripe",)


def get_provider(name: str | None = None) -> PaymentProvider:
    """The named provider (default: the configured one); 404 `not_found` for a provider that
    does not exist here (an unknown name, or the sandbox when it is not chosen)."""
    name = name or settings.PAYMENTS_PROVIDER
    if name not in provider_names():
        raise ApplicationError(f"Unknown payment provider {name!r}.", code="not_found", status=404)
    if name == "sandbox":
        from wallet.providers.sandbox import SandboxProvider

        return SandboxProvider()
    from wallet.providers.stripe import StripeProvider

    return StripeProvider()
