"""Demo data: fund each non-staff demo user with $1,000 through the real deposit path
(sandbox deposit, its signed webhook delivered at once). Idempotent: a user who already
has a demo deposit is left alone.

Then refunds and chargebacks, on the reversals demo account only (betthat/users/demo.py),
through the sandbox's own path (`sandbox_reversal_trigger`, what the payment admin's sandbox
actions call, so the webhooks arrive signed like a provider's): 300.00 paid out, a second
deposit of 50.00 refunded, then a dispute on the first deposit, opened and won. The dispute
takes back 1,000.00 when only 700.00 is left in cash, so 300.00 goes on the receivable account
and the account is frozen until the dispute is won (which books it all back and lifts the
freeze). Each step first looks for what it leaves (a payment by its key, a reversal row).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, TextIO

from django.core.management.base import OutputWrapper
from django.db.models import Sum

from betthat.users.demo import REVERSALS_EMAIL
from wallet.models import Account, LedgerEntry, Payment, Transaction
from wallet.money import format_minor
from wallet.providers import sandbox, sandbox_is_enabled
from wallet.services import wallet_deposit_start, wallet_withdraw
from wallet.services.reversals import sandbox_reversal_trigger

if TYPE_CHECKING:
    from betthat.users.models import User

DEMO_DEPOSIT_MINOR = 100_000
DEMO_KEY = "demo-initial-deposit"
REFUNDED_DEPOSIT_KEY = "demo-refunded-deposit"
REFUNDED_DEPOSIT_MINOR = 5_000
WITHDRAWAL_KEY = "demo-withdrawal"
WITHDRAWAL_MINOR = 30_000


def seed(*, users: Iterable[User], stdout: TextIO | OutputWrapper) -> None:
    if not sandbox_is_enabled():  # demo money comes from the sandbox only, where it is chosen
        stdout.write("wallet: the sandbox is not the payment provider; demo bettors are not funded")
        return
    funded = 0
    users = list(users)
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
    staff = next((u for u in users if u.is_staff), None)
    disputed = next((u for u in users if u.email == REVERSALS_EMAIL), None)
    if staff is not None and disputed is not None:
        stdout.write(f"demo: {_reversals(user=disputed, staff=staff)}")


def _paid(payment: Payment) -> Payment:
    """Deliver the sandbox's answer now (a withdrawal's is also queued for the worker, whose
    later copy finds the payment settled and moves nothing)."""
    if not payment.is_terminal:
        sandbox.deliver(sandbox.build_events(payment, outcome="succeeded"))
        payment.refresh_from_db()
    return payment


def _reversed(payment: Payment, type: str) -> bool:
    return Transaction.objects.filter(payment_id=payment.pk, type=type).exists()


def _reversals(*, user: User, staff: User) -> str:
    first = Payment.objects.filter(user_id=user.pk, idempotency_key=DEMO_KEY).first()
    if first is None or first.status != Payment.Status.SUCCEEDED:
        return f"no paid deposit for {user.email} to reverse"
    withdrawal = Payment.objects.filter(user_id=user.pk, idempotency_key=WITHDRAWAL_KEY).first()
    if withdrawal is None:
        withdrawal = wallet_withdraw(
            user=user,
            amount_minor=WITHDRAWAL_MINOR,
            currency="USD",
            provider="sandbox",
            idempotency_key=WITHDRAWAL_KEY,
        )
    _paid(withdrawal)
    refunded = Payment.objects.filter(user_id=user.pk, idempotency_key=REFUNDED_DEPOSIT_KEY).first()
    if refunded is None:
        refunded = wallet_deposit_start(
            user=user,
            amount_minor=REFUNDED_DEPOSIT_MINOR,
            currency="USD",
            provider="sandbox",
            idempotency_key=REFUNDED_DEPOSIT_KEY,
        )
    _paid(refunded)
    if not _reversed(refunded, Transaction.Type.REFUND):
        sandbox_reversal_trigger(payment=refunded, action="refund", staff=staff)
    if not _reversed(first, Transaction.Type.CHARGEBACK):
        sandbox_reversal_trigger(payment=first, action="dispute_open", staff=staff)
    if not _reversed(first, Transaction.Type.CHARGEBACK_WON):
        sandbox_reversal_trigger(payment=first, action="dispute_won", staff=staff)
    owed = -(
        LedgerEntry.objects.filter(
            transaction__payment_id=first.pk,
            transaction__type=Transaction.Type.CHARGEBACK,
            account__kind=Account.Kind.RECEIVABLE,
        ).aggregate(total=Sum("amount_minor"))["total"]
        or 0
    )
    return (
        f"refund of {user.email}'s {format_minor(refunded.amount_minor)} USD deposit, and a dispute "
        f"on the {format_minor(first.amount_minor)} one, won ({format_minor(owed)} of it on the "
        "receivable account while it was open)"
    )
