"""Start-up checks of the wallet's payment configuration (`manage.py check`, `runserver`,
`migrate` and the ASGI entry run them; an Error stops the process).

- wallet.E001: the sandbox provider (free test money) with DEBUG=false, unless
  SANDBOX_ALLOWED_WITHOUT_DEBUG=true says a staging site really wants it.
- wallet.E002: the sandbox outside development with no webhook secret of its own (empty, or
  the public development default).
- wallet.E003: PAYMENTS_PROVIDER names no provider we have.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

DEVELOPMENT_SECRET = "whsec_sandbox_dev_only"
KNOWN_PROVIDERS = ("sandbox", "stripe")


@register("wallet")
def payments_configuration_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    provider = settings.PAYMENTS_PROVIDER
    if provider not in KNOWN_PROVIDERS:
        errors.append(
            Error(
                f"PAYMENTS_PROVIDER={provider!r} is not a payment provider.",
                hint=f"Choose one of {', '.join(KNOWN_PROVIDERS)}.",
                id="wallet.E003",
            )
        )
    if provider != "sandbox" or settings.DEBUG:
        return errors
    if not settings.SANDBOX_ALLOWED_WITHOUT_DEBUG:
        errors.append(
            Error(
                "The sandbox payment provider credits test cards as real deposits and is refused with DEBUG=false.",
                hint="Set PAYMENTS_PROVIDER=stripe, or SANDBOX_ALLOWED_WITHOUT_DEBUG=true on a staging site.",
                id="wallet.E001",
            )
        )
    elif settings.SANDBOX_WEBHOOK_SECRET in ("", DEVELOPMENT_SECRET):
        errors.append(
            Error(
                "The sandbox webhook secret is empty or the public development default.",
                hint="Set SANDBOX_WEBHOOK_SECRET to a long random value.",
                id="wallet.E002",
            )
        )
    return errors
