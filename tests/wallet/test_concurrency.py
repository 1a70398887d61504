"""Concurrency against the real PostgreSQL: threads, each with its own database connection."""

import json
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from rest_framework.test import APIClient

from betthat.core.errors import ApplicationError
from tests.factories import UserFactory
from tests.wallet.factories import fund_user
from wallet.health import ledger_report
from wallet.models import IdempotencyKey, Payment, Transaction, WebhookEvent
from wallet.providers import sandbox
from wallet.selectors import wallet_balances_for_user
from wallet.services import wallet_deposit_start, wallet_withdraw
from wallet.webhooks import payment_webhook_receive

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
THREADS = 16  # the server is shared: 16 connections are plenty to interleave everything


def run_concurrently(count, work):
    barrier = threading.Barrier(min(count, THREADS))

    def wrapped(index):
        try:
            if index < THREADS:
                barrier.wait(timeout=30)
            return work(index)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(wrapped, range(count)))


def test_200_concurrent_withdrawals_when_funds_cover_exactly_k():
    user = UserFactory()
    k, amount = 37, 1_000
    fund_user(user, k * amount)

    def withdraw(_index):
        try:
            wallet_withdraw(user=user, amount_minor=amount)
            return "ok"
        except ApplicationError as error:
            return error.code

    results = run_concurrently(200, withdraw)
    assert results.count("ok") == k
    assert results.count("insufficient_funds") == 200 - k
    balances = wallet_balances_for_user(user=user)
    assert (balances.available_minor, balances.held_minor) == (0, k * amount)
    assert Payment.objects.filter(direction="WITHDRAWAL").count() == k
    assert ledger_report().ok


def test_50_concurrent_copies_of_one_idempotency_key_have_one_effect(token_client_for):
    user = UserFactory()
    fund_user(user, 100_000)
    token = token_client_for(user)._credentials["HTTP_AUTHORIZATION"]

    def post(_index):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=token)
        response = client.post(
            "/api/v1/wallet/withdrawals/",
            {"amount": "12.34", "currency": "USD"},
            format="json",
            HTTP_IDEMPOTENCY_KEY="same-key-50",
        )
        return response.status_code, response.json()

    results = run_concurrently(50, post)
    assert {status for status, _ in results} == {201}
    assert len({body["id"] for _, body in results}) == 1
    assert Payment.objects.filter(direction="WITHDRAWAL").count() == 1
    assert IdempotencyKey.objects.filter(user=user, key="same-key-50").count() == 1
    balances = wallet_balances_for_user(user=user)
    assert (balances.available_minor, balances.held_minor) == (100_000 - 1_234, 1_234)


def test_a_webhook_delivered_10_times_concurrently_and_out_of_order_credits_once():
    user = UserFactory()
    payment = wallet_deposit_start(user=user, amount_minor=7_500, provider="sandbox")
    events = sandbox.delivery_plan(
        sandbox.build_events(payment, outcome="succeeded"), duplicates=10, out_of_order=True
    )
    random.Random(3).shuffle(events)
    assert len(events) == 20

    def deliver(index):
        body = json.dumps(events[index], sort_keys=True).encode()
        return payment_webhook_receive(
            provider="sandbox", body=body, headers={sandbox.SIGNATURE_HEADER: sandbox.sign(body)}
        )["outcome"]

    outcomes = run_concurrently(len(events), deliver)
    assert outcomes.count("succeeded") == 1
    assert outcomes.count("duplicate") == 18
    assert WebhookEvent.objects.filter(payment=payment).count() == 2
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert wallet_balances_for_user(user=user).available_minor == 7_500
    assert Transaction.objects.get(payment=payment).entries.count() == 2
    assert ledger_report().ok


def test_concurrent_holds_and_bonuses_on_many_users_never_deadlock():
    from wallet.services import wallet_bonus, wallet_hold

    users = [UserFactory() for _ in range(4)]
    for user in users:
        fund_user(user, 10_000)

    def work(index):
        user = users[index % len(users)]
        if index % 3 == 0:
            wallet_bonus(user=user, amount_minor=10)
        else:
            try:
                wallet_hold(user=user, amount_minor=100, currency="USD")
            except ApplicationError as error:
                return error.code
        return "ok"

    results = run_concurrently(120, work)
    assert results.count("ok") == 120
    assert ledger_report().ok
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM wallet_transaction WHERE type = 'BET_PLACED'")
        assert cursor.fetchone()[0] == 80
