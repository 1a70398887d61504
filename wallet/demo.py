"""Demo data: fund each non-staff demo user with $1,000 through the real deposit path
(sandbox deposit, its signed webhook delivered at once). Idempotent: a user who already
has a demo deposit is left alone."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, TextIO

from django.core.management.base import OutputWrapper

from wallet.models import Payment
from wallet.providers import sandbox, sandbox_is_enabled
from wallet.services import wallet_deposit_start

if TYPE_CHECKING:
    from betthat.users.models import User

DEMO_DEPOSIT_MINOR = 100_000
DEMO_KEY = "demo-initial-deposit"


def seed(*, users: Iterable[User], stdout: TextIO | OutputWrapper) -> None:
    if not sandbox_is_enabled():  # demo money comes from the sandbox only, where it is chosen
        stdout.write("wallet: the sandbox is not the payment provider; demo bettors are not funded")
        return
    funded = 0
    for user in users:
        if user.is_staff:
            continue
        payment = Payment.objects.filter(user_id=user.pk, idempotency_key=DEMO_KEY).first()
        if payment is None:
            payment = wallet_deposit_start(
                user=user,
                amount_minor=DEMO_DEPOSIT_MINOR,
                currency="USD",
                provider="sandbox",
                idempotency_key=DEMO_KEY,
            )
        if payment.is_terminal:
            continue
        # The sandbox's webhooks, signed and verified like any delivery.
        sandbox.deliver(sandbox.build_events(payment, outcome="succeeded"))
        funded += 1
    stdout.write(f"wallet: funded {funded} demo bettor(s) with 1,000.00 USD")
