"""Wallet test helpers. `fund_user` puts real money in a user's wallet through the real
deposit path (sandbox provider; the provider's success applied as its webhook would)."""

from __future__ import annotations

from wallet.models import Payment
from wallet.services import wallet_deposit_complete, wallet_deposit_start


def fund_user(user, amount_minor: int, currency: str = "USD") -> Payment:
    payment = wallet_deposit_start(
        user=user, amount_minor=amount_minor, currency=currency, provider="sandbox"
    )
    wallet_deposit_complete(payment=payment)
    payment.refresh_from_db()
    return payment
