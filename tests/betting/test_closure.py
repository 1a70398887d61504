"""Self-service account closure: refused while a bet is open or money is held, the balance is
paid out through the payment provider first, then the account is deactivated; idempotent,
audited, behind a recent re-authentication for browser sessions."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from betthat.core.outbox import relay_outbox
from betthat.users.models import ApiToken, User
from betthat.users.services import user_freeze
from betting.services import account_close
from tests.betting.helpers import leg, place
from tests.factories import PASSWORD, UserFactory
from wallet.models import Payment
from wallet.providers import sandbox
from wallet.selectors import wallet_balances_for_user
from wallet.services import wallet_hold

URL = "/api/v1/account/close/"
_keys = iter(range(1, 10_000))


def next_key() -> str:
    return f"close-{next(_keys)}"


@pytest.fixture(autouse=True)
def _sandbox(settings):
    settings.PAYMENTS_PROVIDER = "sandbox"
    settings.SANDBOX_AUTO_DELIVER = False  # the test delivers the provider's answer itself


def closed(user) -> bool:
    fresh = User.all_objects.get(pk=user.pk)
    return fresh.closed_at is not None and not fresh.is_active and fresh.deleted_at is not None


def test_an_empty_account_closes_at_once_and_its_tokens_stop_working(user, token_client_for):
    client = token_client_for(user)
    response = client.post(URL, HTTP_IDEMPOTENCY_KEY=next_key())
    assert response.status_code == 200 and response.json() == {"status": "closed", "payouts": []}
    assert closed(user)
    assert not ApiToken.objects.filter(user=user).exists()
    assert client.get("/api/v1/me/").status_code == 401
    assert User.objects.filter(pk=user.pk).count() == 0  # gone from the default manager
    # Idempotent: closing again answers "closed" and changes nothing.
    first = User.all_objects.get(pk=user.pk).closed_at
    assert account_close(user=user).status == "closed"
    assert User.all_objects.get(pk=user.pk).closed_at == first


def test_an_open_bet_refuses_closure_and_nothing_changes(funded_user, game, token_client_for):
    place(funded_user, leg(game.o("home_ml")), stake=1_000)
    response = token_client_for(funded_user).post(URL, HTTP_IDEMPOTENCY_KEY=next_key())
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "bets_open"
    assert response.json()["error"]["details"]["open_bets"] == 1
    assert not closed(funded_user)
    assert not Payment.objects.filter(user=funded_user, direction="WITHDRAWAL").exists()


def test_held_money_refuses_closure(funded_user, token_client_for):
    wallet_hold(user=funded_user, amount_minor=500, currency="USD", bet_id=None)
    response = token_client_for(funded_user).post(URL, HTTP_IDEMPOTENCY_KEY=next_key())
    assert (response.status_code, response.json()["error"]["code"]) == (409, "money_held")
    assert response.json()["error"]["details"]["held_minor"] == {"USD": 500}
    assert not closed(funded_user)


def test_a_frozen_account_cannot_close_itself(funded_user, token_client_for, staff_user):
    user_freeze(user=funded_user, actor=staff_user, reason="dispute")
    response = token_client_for(funded_user).post(URL, HTTP_IDEMPOTENCY_KEY=next_key())
    assert (response.status_code, response.json()["error"]["code"]) == (403, "account_frozen")
    assert not closed(funded_user)


def test_the_balance_is_paid_out_first_then_the_account_closes(
    funded_user, token_client_for, django_capture_on_commit_callbacks
):
    client = token_client_for(funded_user)
    response = client.post(URL, HTTP_IDEMPOTENCY_KEY=next_key())
    assert response.status_code == 202
    body = response.json()
    assert body["status"] == "payout_pending"
    assert [(p["amount"], p["currency"]) for p in body["payouts"]] == [("1000.00", "USD")]
    assert not closed(funded_user)
    payment = Payment.objects.get(user=funded_user, direction="WITHDRAWAL")
    assert wallet_balances_for_user(user=funded_user).held_minor == 100_000
    # While the payout is in flight, asking again refuses and starts no second payout.
    again = client.post(URL, HTTP_IDEMPOTENCY_KEY=next_key())
    assert (again.status_code, again.json()["error"]["code"]) == (409, "money_held")
    assert Payment.objects.filter(user=funded_user, direction="WITHDRAWAL").count() == 1
    # The provider pays out; the payments.succeeded handler closes the account.
    sandbox.deliver(sandbox.build_events(payment, outcome="succeeded"))
    with django_capture_on_commit_callbacks(execute=True):
        relay_outbox()
    assert closed(funded_user)
    balances = wallet_balances_for_user(user=funded_user)
    assert (balances.available_minor, balances.held_minor) == (0, 0)


def test_a_browser_session_must_reauthenticate_first(user):
    client = APIClient()
    client.force_login(user)
    response = client.post(URL, HTTP_IDEMPOTENCY_KEY=next_key())
    assert (response.status_code, response.json()["error"]["code"]) == (403, "reauthentication_required")
    assert not closed(user)


def test_the_page_asks_for_the_password_then_closes(user):
    fund = UserFactory()  # an unrelated account stays as it is
    browser = Client()
    browser.force_login(user)
    page = browser.get("/account/close/")
    assert page.status_code == 200 and b"Open bets" in page.content
    response = browser.post("/account/close/")
    assert response.status_code == 302 and "/accounts/reauthenticate/" in response["Location"]
    assert not closed(user)
    confirmed = browser.post(response["Location"], {"password": PASSWORD}, follow=True)
    assert confirmed.status_code == 200
    assert closed(user)
    assert not closed(fund)


def test_a_checkout_in_progress_holds_closure_but_an_abandoned_one_does_not(user, token_client_for):
    from datetime import timedelta

    from django.utils import timezone

    from wallet.services import wallet_deposit_start

    client = token_client_for(user)
    checkout = wallet_deposit_start(user=user, amount_minor=5_000, provider="sandbox")
    response = client.post(URL, HTTP_IDEMPOTENCY_KEY=next_key())
    assert (response.status_code, response.json()["error"]["code"]) == (409, "money_held")
    assert response.json()["error"]["details"]["payments_in_flight"] == 1
    Payment.objects.filter(pk=checkout.pk).update(created_at=timezone.now() - timedelta(hours=2))
    assert client.post(URL, HTTP_IDEMPOTENCY_KEY=next_key()).json()["status"] == "closed"
    assert closed(user)


def test_a_retried_close_replays_its_answer_and_pays_out_once(funded_user, token_client_for):
    client = token_client_for(funded_user)
    assert client.post(URL).json()["error"]["code"] == "idempotency_key_required"
    first = client.post(URL, HTTP_IDEMPOTENCY_KEY="close-once")
    again = client.post(URL, HTTP_IDEMPOTENCY_KEY="close-once")
    assert (first.status_code, again.status_code) == (202, 202)
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Payment.objects.filter(user=funded_user, direction="WITHDRAWAL").count() == 1
