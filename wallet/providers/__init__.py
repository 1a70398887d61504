"""Payment providers behind one interface: `get_provider(name)`.

A provider starts deposits and withdrawals (returning its own id and, for a browser flow,
a checkout URL) and turns a webhook request (raw body and headers) into a verified
`ProviderEvent`, or refuses it with 401 `invalid_signature` (bad signature, stale timestamp).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings

from betthat.core.errors import ApplicationError

WEBHOOK_TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class StartResult:
    provider_transaction_id: str
    checkout_url: str = ""
    provider_customer_id: str = ""


@dataclass(frozen=True)
class ProviderEvent:
    event_id: str
    event_type: str
    # "processing", "succeeded", "failed", or "ignored" for events we do not act on.
    outcome: str
    payment_id: int | None = None
    provider_transaction_id: str = ""
    amount_minor: int | None = None
    currency: str = ""
    reason: str = ""
    payload: dict[str, Any] = field(default_factory=dict)


class PaymentProvider(Protocol):
    name: str

    def start_deposit(self, payment) -> StartResult: ...

    def start_withdrawal(self, payment) -> StartResult: ...

    def parse_webhook(self, *, body: bytes, headers: Mapping[str, str]) -> ProviderEvent: ...


def invalid_signature(message: str) -> ApplicationError:
    return ApplicationError(message, code="invalid_signature", status=401)


def provider_names() -> tuple[str, ...]:
    return ("sandbox", "stripe")


def get_provider(name: str | None = None) -> PaymentProvider:
    name = name or settings.PAYMENTS_PROVIDER
    if name == "sandbox":
        from wallet.providers.sandbox import SandboxProvider

        return SandboxProvider()
    if name == "stripe":
        from wallet.providers.stripe import StripeProvider

        return StripeProvider()
    raise ApplicationError(f"Unknown payment provider {name!r}.", code="not_found", status=404)
