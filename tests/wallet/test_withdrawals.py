"""Withdrawals call the provider with no row locked (reserve, commit, call, book), and a slow,
failing or unreachable provider leaves the ledger and the provider agreeing (issue 8 item 10).

The provider double is Stripe's API (the external service), not our code: the real
StripeProvider, services, ledger and database run."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

import pytest
import stripe
from django.db import connection
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.wallet.factories import fund_user
from wallet import services
from wallet.health import ledger_report
from wallet.models import Account, Payment, Transaction
from wallet.providers.stripe import StripeProvider
from wallet.selectors import wallet_balances_for_user
from wallet.services import wallet_withdraw

WAIT = 30  # seconds: an upper bound for a condition, never a sleep


class SlowStripe:
    """Stripe's payouts API that answers only when the test says so, with `answer`."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.called = threading.Event()
        self.release = threading.Event()
        self.calls = 0
        self.payouts = SimpleNamespace(create=self._create)

    def _create(self, params: dict[str, Any], options: dict[str, Any] | None = None) -> Any:
        self.calls += 1
        self.called.set()
        assert self.release.wait(WAIT), "the test never released the provider"
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


@pytest.fixture
def stripe_double(settings, monkeypatch):
    """`use(answer)`: from now on the site pays out through Stripe, whose API answers `answer`
    (users are funded before, through the sandbox)."""
    settings.STRIPE_API_KEY = "sk_test_fake"
    holder: dict[str, SlowStripe] = {}
    monkeypatch.setattr(StripeProvider, "_client", lambda self: holder["client"])

    def use(answer: Any) -> SlowStripe:
        settings.PAYMENTS_PROVIDER = "stripe"
        holder["client"] = SlowStripe(answer)
        return holder["client"]

    return use


def accounts_lockable_now(user_id: int) -> bool:
    """From another connection: can the user's accounts be locked without waiting?"""
    from django.db.utils import OperationalError

    with _other_connection() as other:
        try:
            with other.cursor() as cursor:
                cursor.execute("BEGIN")
                cursor.execute(
                    "SELECT id FROM wallet_account WHERE user_id = %s FOR UPDATE NOWAIT", [user_id]
                )
                cursor.execute("ROLLBACK")
            return True
        except OperationalError:
            with other.cursor() as cursor:
                cursor.execute("ROLLBACK")
            return False


class _other_connection:
    def __enter__(self):
        self.connection = connection.copy()
        return self.connection

    def __exit__(self, *exc: object) -> None:
        self.connection.close()


def run_in_thread(target) -> tuple[threading.Thread, dict[str, Any]]:
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["value"] = target()
        except Exception as error:  # reported to the test below
            result["error"] = error
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("answer", "status", "available", "held"),
    [
        (SimpleNamespace(id="po_123"), "pending", 7_500, 2_500),  # accepted: held until its webhook
        (stripe.InvalidRequestError("bank account closed", param="destination"), "failed", 10_000, 0),
        (stripe.APIConnectionError("connection reset"), "pending", 7_500, 2_500),  # unknown: kept held
    ],
    ids=["accepted", "refused", "unreachable"],
)
def test_a_slow_provider_holds_no_lock_and_its_answer_is_booked(
    stripe_double, answer, status, available, held
):
    user = UserFactory()
    fund_user(user, 10_000)
    provider = stripe_double(answer)
    thread, result = run_in_thread(
        lambda: wallet_withdraw(user=user, amount_minor=2_500, idempotency_key="w-1")
    )
    try:
        assert provider.called.wait(WAIT)
        # While the provider thinks, the user's accounts are free and the hold is committed.
        assert accounts_lockable_now(user.pk)
        assert wallet_balances_for_user(user=user).held_minor == 2_500
    finally:
        provider.release.set()
        thread.join(WAIT)
    payment = Payment.objects.get(user=user, direction="WITHDRAWAL")
    assert payment.status == status
    balances = wallet_balances_for_user(user=user)
    assert (balances.available_minor, balances.held_minor) == (available, held)
    if isinstance(answer, stripe.InvalidRequestError):
        assert result["error"].code == "provider_refused"
    else:
        assert "error" not in result
    if status == "pending" and isinstance(answer, SimpleNamespace):
        assert payment.provider_transaction_id == "po_123"
    assert ledger_report().ok


@pytest.mark.django_db(transaction=True)
def test_an_unreachable_provider_is_asked_again_with_the_same_key_and_pays_once(stripe_double, monkeypatch):
    user = UserFactory()
    fund_user(user, 10_000)
    first = stripe_double(stripe.APIConnectionError("timeout"))
    first.release.set()
    payment = wallet_withdraw(user=user, amount_minor=1_000, idempotency_key="w-2")
    tx = Transaction.objects.get(payment=payment)
    assert tx.processing_attempts == 1 and "not confirmed" in tx.last_error
    # The resubmission waits a minute; make the payment old enough.
    Payment.objects.filter(pk=payment.pk).update(created_at=payment.created_at.replace(year=2000))
    second = stripe_double(SimpleNamespace(id="po_again"))
    keys: list[str] = []
    original = second._create

    def recording(params: dict[str, Any], options: dict[str, Any] | None = None) -> Any:
        keys.append((options or {}).get("idempotency_key", ""))
        return original(params, options)

    second.payouts = SimpleNamespace(create=recording)
    second.release.set()
    assert services.withdrawals_resubmit_due() == 1
    assert keys == [f"betthat-payment-{payment.pk}"]
    payment.refresh_from_db()
    assert payment.provider_transaction_id == "po_again" and payment.status == "pending"
    assert services.withdrawals_resubmit_due() == 0  # recorded: never asked again
    assert wallet_balances_for_user(user=user).held_minor == 1_000
    assert ledger_report().ok


@pytest.mark.django_db(transaction=True)
def test_the_api_withdrawal_does_not_hold_locks_during_the_provider_call(stripe_double, token_client_for):
    user = UserFactory()
    fund_user(user, 10_000)
    token = token_client_for(user)._credentials["HTTP_AUTHORIZATION"]
    provider = stripe_double(SimpleNamespace(id="po_api"))

    def call() -> Any:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=token)
        return client.post(
            "/api/v1/wallet/withdrawals/", {"amount": "12.00"}, format="json", HTTP_IDEMPOTENCY_KEY="api-w"
        )

    thread, result = run_in_thread(call)
    try:
        assert provider.called.wait(WAIT)
        assert accounts_lockable_now(user.pk)
    finally:
        provider.release.set()
        thread.join(WAIT)
    assert result["value"].status_code == 201, result
    assert result["value"].json()["provider_transaction_id"] == "po_api"
    assert Account.objects.get(user=user, kind="holds").balance_minor == 1_200
