"""Issue 18 item 2: every sensitive step needs a recent password (or two-factor) confirmation,
and a token made from a page is no stronger than a session (betthat/users/reauth.py)."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.test import Client
from rest_framework.test import APIClient

from betthat.users.models import ApiToken
from betthat.users.views import NEW_TOKEN_SESSION_KEY
from tests.factories import PASSWORD, UserFactory
from tests.wallet.factories import fund_user
from wallet.models import Payment

pytestmark = pytest.mark.django_db

WITHDRAWALS = "/api/v1/wallet/withdrawals/"


def signed_in(user) -> Client:
    browser = Client()
    browser.force_login(user)
    return browser


def reauthenticate(browser: Client) -> None:
    assert browser.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302


def withdraw_with(client: APIClient, key: str):
    return client.post(WITHDRAWALS, {"amount": "5.00"}, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_the_token_page_needs_a_recent_password_confirmation():
    user = UserFactory()
    browser = signed_in(user)
    asked = browser.post("/account/tokens/", {"name": "script"})
    assert asked.status_code == 302 and asked["Location"].startswith("/accounts/reauthenticate/")
    assert ApiToken.objects.filter(user=user).count() == 0
    # The password confirmed, the suspended POST resumes and makes the token.
    confirmed = browser.post(asked["Location"], {"password": PASSWORD})
    assert confirmed.status_code == 302
    token = ApiToken.objects.get(user=user)
    assert (token.name, token.source) == ("script", ApiToken.Source.SESSION)


def test_a_wrong_password_makes_no_token():
    user = UserFactory()
    browser = signed_in(user)
    asked = browser.post("/account/tokens/", {"name": "script"})
    browser.post(asked["Location"], {"password": "not-the-password"})
    assert ApiToken.objects.filter(user=user).count() == 0


def test_a_token_made_from_a_page_cannot_withdraw():
    user = UserFactory()
    fund_user(user, 10_000)
    browser = signed_in(user)
    reauthenticate(browser)
    assert browser.post("/account/tokens/", {"name": "script"}).status_code == 302
    key = browser.session[NEW_TOKEN_SESSION_KEY]
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    response = withdraw_with(client, "page-token")
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "reauthentication_required"
    assert error["details"] == {"token_url": "/api/v1/auth/token/"}
    assert not Payment.objects.filter(direction="WITHDRAWAL").exists()
    # The same token still reads.
    assert client.get("/api/v1/me/").json()["id"] == user.pk


def test_a_token_made_with_the_password_can_withdraw():
    user = UserFactory()
    fund_user(user, 10_000)
    made = APIClient().post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}, format="json")
    assert made.status_code == 200
    assert ApiToken.objects.get(pk=made.json()["id"]).source == ApiToken.Source.CREDENTIALS
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {made.json()['token']}")
    response = withdraw_with(client, "credential-token")
    assert response.status_code == 201
    assert Payment.objects.get(direction="WITHDRAWAL").amount_minor == 500


def test_the_api_guard_answers_401_403_then_lets_a_confirmed_session_through():
    user = UserFactory()
    fund_user(user, 10_000)
    anonymous = withdraw_with(APIClient(), "anon")
    assert anonymous.status_code in (401, 403)  # DRF: 403 when no authenticator sends a challenge
    assert anonymous.json()["error"]["code"] == "not_authenticated"
    client = APIClient()
    client.force_login(user)
    refused = withdraw_with(client, "stale-session")
    assert refused.status_code == 403
    assert refused.json()["error"]["details"] == {"reauthenticate_url": "/accounts/reauthenticate/"}
    assert client.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302
    assert withdraw_with(client, "fresh-session").status_code == 201
    assert Payment.objects.filter(direction="WITHDRAWAL").count() == 1


@pytest.mark.parametrize("action", ["action_add", "action_primary", "action_remove"])
def test_email_changes_need_a_recent_password_confirmation(action):
    user = UserFactory()
    other = EmailAddress.objects.create(user=user, email=f"second-{user.pk}@example.com", verified=True)
    browser = signed_in(user)
    email = f"third-{user.pk}@example.com" if action == "action_add" else other.email
    before = sorted(EmailAddress.objects.filter(user=user).values_list("email", "primary"))
    asked = browser.post("/accounts/email/", {"email": email, action: ""})
    assert asked.status_code == 302 and asked["Location"].startswith("/accounts/reauthenticate/")
    assert sorted(EmailAddress.objects.filter(user=user).values_list("email", "primary")) == before
    # After the password, the same change goes through.
    reauthenticate(browser)
    browser.post("/accounts/email/", {"email": email, action: ""})
    after = dict(EmailAddress.objects.filter(user=user).values_list("email", "primary"))
    if action == "action_add":
        assert email in after
    elif action == "action_primary":
        assert after[email] is True
    else:
        assert email not in after


def test_two_factor_changes_need_a_recent_password_confirmation():
    browser = signed_in(UserFactory())
    for path in ("/accounts/2fa/totp/activate/", "/accounts/2fa/recovery-codes/generate/"):
        response = browser.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/reauthenticate/")
