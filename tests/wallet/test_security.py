"""Issue 8, wallet side: money only from a provider's word, the sandbox only where chosen, only
its documented test cards, verification levels in the services, bounded webhooks, no 500."""

from __future__ import annotations

import importlib
import json
from types import SimpleNamespace
from typing import Any

import pytest
from django.core import checks
from django.test import Client
from django.urls import reverse
from hypothesis import given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from betthat.core.errors import ApplicationError
from betthat.users.models import User
from tests.factories import UserFactory
from tests.wallet.factories import fund_user
from wallet.models import Payment, Transaction, WebhookEvent
from wallet.providers import sandbox
from wallet.selectors import wallet_balances_for_user
from wallet.services import wallet_deposit_start, wallet_withdraw

pytestmark = pytest.mark.django_db
WEBHOOK = "/api/v1/payments/webhooks/{}/"


class FakeStripe:
    """A double of Stripe's API (the external provider), recording what it was asked."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.checkout = SimpleNamespace(sessions=SimpleNamespace(create=self._session))
        self.payment_intents = SimpleNamespace(create=self._intent)
        self.payouts = SimpleNamespace(create=self._payout)

    def _session(self, params: dict[str, Any], options: dict[str, Any] | None = None) -> Any:
        self.calls.append(("checkout.session", params))
        return SimpleNamespace(id="cs_test_1", url="https://checkout.stripe.test/c/cs_test_1")

    def _intent(self, params: dict[str, Any], options: dict[str, Any] | None = None) -> Any:
        self.calls.append(("payment_intent", params))
        return SimpleNamespace(id="pi_test_1", client_secret="pi_test_1_secret")

    def _payout(self, params: dict[str, Any], options: dict[str, Any] | None = None) -> Any:
        self.calls.append(("payout", params))
        return SimpleNamespace(id="po_test_1")


@pytest.fixture
def fake_stripe(settings, monkeypatch):
    from wallet.providers.stripe import StripeProvider

    reverse("wallet:sandbox-checkout", args=[1])  # the URLconf is loaded as the site starts: sandbox
    settings.PAYMENTS_PROVIDER = "stripe"
    settings.STRIPE_API_KEY = "sk_test_fake"
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_stripe"
    fake = FakeStripe()
    monkeypatch.setattr(StripeProvider, "_client", lambda self: fake)
    return fake


@pytest.fixture
def browser(user):
    client = Client()
    client.force_login(user)
    return client


def post_webhook(client, provider: str, body: bytes, **headers):
    return client.generic("POST", WEBHOOK.format(provider), body, content_type="application/json", **headers)


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    return body["error"]


# --- 1. the configured provider, the sandbox only where chosen ---------------------------------


def test_the_web_deposit_uses_the_configured_provider(user, browser, fake_stripe):
    response = browser.post(
        "/wallet/deposit/", {"amount": "25.00", "currency": "USD", "idempotency_key": "w1"}
    )
    payment = Payment.objects.get(user=user)
    assert payment.provider == "stripe"
    assert response.status_code == 302 and response["Location"] == "https://checkout.stripe.test/c/cs_test_1"
    kind, params = fake_stripe.calls[0]
    assert kind == "checkout.session"
    assert params["payment_intent_data"]["metadata"]["payment_id"] == str(payment.pk)
    assert params["line_items"][0]["price_data"]["unit_amount"] == 2_500


def test_the_api_deposit_uses_the_configured_provider(user, user_client, fake_stripe):
    response = user_client.post(
        "/api/v1/wallet/deposits/", {"amount": "10.00"}, format="json", HTTP_IDEMPOTENCY_KEY="a1"
    )
    assert response.status_code == 201, response.content
    assert response.json()["provider"] == "stripe"
    assert response.json()["checkout_url"] == "https://checkout.stripe.test/c/cs_test_1"


def test_the_sandbox_checkout_is_absent_when_another_provider_is_chosen(user, browser, settings):
    payment = wallet_deposit_start(user=user, amount_minor=2_500, provider="sandbox")
    settings.PAYMENTS_PROVIDER = "stripe"
    response = browser.post(
        f"/wallet/sandbox/checkout/{payment.pk}/", {"card_number": "4242424242424242", "duplicates": 1}
    )
    assert response.status_code == 404
    payment.refresh_from_db()
    assert payment.status == "pending"


def test_the_sandbox_webhook_is_absent_when_another_provider_is_chosen(api_client, user, settings):
    payment = wallet_deposit_start(user=user, amount_minor=2_500, provider="sandbox")
    settings.PAYMENTS_PROVIDER = "stripe"
    body = json.dumps(sandbox.build_events(payment, outcome="succeeded")[1]).encode()
    response = post_webhook(api_client, "sandbox", body, HTTP_SANDBOX_SIGNATURE=sandbox.sign(body))
    assert_error(response, 404, "not_found")
    assert wallet_balances_for_user(user=user).available_minor == 0
    with pytest.raises(Exception) as refused:
        wallet_deposit_start(user=user, amount_minor=100, provider="sandbox")
    assert getattr(refused.value, "code", "") == "not_found"


def test_the_sandbox_routes_are_not_mounted_when_another_provider_is_chosen(settings):
    import wallet.urls

    reverse("wallet:sandbox-checkout", args=[1])  # the site's URLconf, loaded with the sandbox
    settings.PAYMENTS_PROVIDER = "stripe"
    try:
        names = {pattern.name for pattern in importlib.reload(wallet.urls).urlpatterns}
        assert "sandbox-checkout" not in names and "index" in names
    finally:
        settings.PAYMENTS_PROVIDER = "sandbox"
        importlib.reload(wallet.urls)
    assert reverse("wallet:sandbox-checkout", args=[1])


@pytest.mark.parametrize(
    ("debug", "allowed", "secret", "expected"),
    [
        (True, False, "whsec_sandbox_dev_only", set()),
        (False, False, "a-long-random-secret", {"wallet.E001"}),
        (False, True, "a-long-random-secret", set()),
        (False, True, "whsec_sandbox_dev_only", {"wallet.E002"}),
        (False, True, "", {"wallet.E002"}),
    ],
)
def test_the_sandbox_refuses_to_start_without_debug_unless_allowed(
    settings, debug, allowed, secret, expected
):
    settings.DEBUG = debug
    settings.SANDBOX_ALLOWED_WITHOUT_DEBUG = allowed
    settings.SANDBOX_WEBHOOK_SECRET = secret
    found = {message.id for message in checks.run_checks() if message.id.startswith("wallet.")}
    assert found == expected
    if expected:
        assert all(m.level >= checks.ERROR for m in checks.run_checks() if m.id in expected)


def test_no_sandbox_webhook_secret_means_every_delivery_is_refused(api_client, user, settings):
    payment = wallet_deposit_start(user=user, amount_minor=2_500, provider="sandbox")
    body = json.dumps(sandbox.build_events(payment, outcome="succeeded")[1]).encode()
    header = sandbox.sign(body)
    settings.SANDBOX_WEBHOOK_SECRET = ""
    assert_error(
        post_webhook(api_client, "sandbox", body, HTTP_SANDBOX_SIGNATURE=header), 401, "invalid_signature"
    )
    forged = sandbox.sign(body, secret="")
    assert_error(
        post_webhook(api_client, "sandbox", body, HTTP_SANDBOX_SIGNATURE=forged), 401, "invalid_signature"
    )
    assert wallet_balances_for_user(user=user).available_minor == 0


@pytest.mark.parametrize(
    ("card", "outcome"),
    [
        ("4242 4242 4242 4242", "succeeded"),
        ("4000 0000 0000 0002", "failed"),
        ("4000 0000 0000 9995", "failed"),
    ],
)
def test_the_documented_test_cards(user, card, outcome):
    payment = wallet_deposit_start(user=user, amount_minor=2_500, provider="sandbox")
    assert sandbox.checkout_submit(payment, card_number=card) == outcome


@pytest.mark.parametrize("card", ["4111 1111 1111 1111", "5555555555554444", "0000000000000000", "4242"])
def test_any_other_card_number_is_refused_and_pays_nothing(user, browser, card):
    payment = wallet_deposit_start(user=user, amount_minor=2_500, provider="sandbox")
    response = browser.post(f"/wallet/sandbox/checkout/{payment.pk}/", {"card_number": card, "duplicates": 1})
    assert response.status_code == 200
    assert "test card" in response.content.decode()
    assert not WebhookEvent.objects.exists()
    payment.refresh_from_db()
    assert payment.status == "pending"


# --- 3e. verification levels, enforced in the services ------------------------------------------


@pytest.mark.parametrize(
    ("level", "may_deposit", "may_withdraw"),
    [
        (User.VerificationLevel.NONE, False, False),
        (User.VerificationLevel.EMAIL, True, False),
        (User.VerificationLevel.IDENTITY, True, True),
    ],
)
def test_verification_levels_gate_deposits_and_withdrawals(level, may_deposit, may_withdraw):
    user = UserFactory(verification_level=User.VerificationLevel.IDENTITY)
    fund_user(user, 5_000)
    User.objects.filter(pk=user.pk).update(verification_level=level)
    user.refresh_from_db()
    before = (Payment.objects.count(), Transaction.objects.count())
    for may, call in (
        (may_deposit, lambda: wallet_deposit_start(user=user, amount_minor=1_000, provider="sandbox")),
        (may_withdraw, lambda: wallet_withdraw(user=user, amount_minor=1_000)),
    ):
        if may:
            call()
            continue
        with pytest.raises(Exception) as refused:
            call()
        assert refused.value.code == "verification_required" and refused.value.status == 403
    if not may_deposit and not may_withdraw:
        assert (Payment.objects.count(), Transaction.objects.count()) == before
    if not may_withdraw:
        assert wallet_balances_for_user(user=user).held_minor == 0


def test_an_unverified_account_is_refused_by_the_api(token_client_for):
    user = UserFactory(verification_level=User.VerificationLevel.NONE)
    client = token_client_for(user)
    response = client.post(
        "/api/v1/wallet/deposits/", {"amount": "10"}, format="json", HTTP_IDEMPOTENCY_KEY="v1"
    )
    error = assert_error(response, 403, "verification_required")
    assert error["details"]["action"] == "deposit"
    assert not Payment.objects.filter(user=user).exists()


# --- 9. no 500 on any input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "watch", ["\u0663", "\u00b2", "99999999999999999999999", "1,\u00b2,3", "-1", "1" * 5000]
)
def test_the_live_page_answers_4xx_or_ignores_malformed_watch_values(user, browser, watch):
    response = browser.get("/wallet/live/", {"watch": watch})
    assert response.status_code < 500
    if response.status_code >= 400:
        assert response.json()["error"]["code"] == "validation_error"


def signed_sandbox(api_client, event: Any, raw: bytes | None = None):
    body = raw if raw is not None else json.dumps(event).encode()
    return post_webhook(api_client, "sandbox", body, HTTP_SANDBOX_SIGNATURE=sandbox.sign(body))


@pytest.fixture
def deposit(user):
    return wallet_deposit_start(user=user, amount_minor=2_500, provider="sandbox")


def test_a_webhook_event_id_longer_than_its_column_is_a_400(api_client, deposit):
    event = sandbox.build_events(deposit, outcome="succeeded")[1]
    event["id"] = "evt_" + "x" * 300
    assert_error(signed_sandbox(api_client, event), 400, "parse_error")
    assert not WebhookEvent.objects.exists()


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: e["data"].update(payment_id=10**30),
        lambda e: e["data"].update(amount_minor=10**30),
        lambda e: e["data"].update(amount_minor="1e3"),
        lambda e: e["data"].update(payment_id=[1]),
        lambda e: e.update(type=["payment.succeeded"]),
        lambda e: e.update(data="nope"),
        lambda e: e.update(id={"a": 1}),
        lambda e: e["data"].update(reason="\x00"),
        lambda e: e["data"].update(currency="\x00USD"),
    ],
    ids=[
        "huge-payment-id",
        "huge-amount",
        "amount-string",
        "id-list",
        "type-list",
        "data-string",
        "id-dict",
        "nul-reason",
        "nul-currency",
    ],
)
def test_malformed_signed_sandbox_events_are_400s(api_client, deposit, mutate):
    event = sandbox.build_events(deposit, outcome="succeeded")[1]
    mutate(event)
    response = signed_sandbox(api_client, event)
    assert response.status_code < 500, response.content
    assert response.status_code in (200, 400)
    deposit.refresh_from_db()
    assert deposit.status == "pending"


@pytest.mark.parametrize(
    "raw",
    [
        b'{"id": "e1", "type": "payment.succeeded", "data": {"payment_id": 1, "amount_minor": 1, "currency": "USD", "x": NaN}}',
        b'{"id": "e2", "type": "payment.succeeded", "data": {"payment_id": 1, "amount_minor": Infinity, "currency": "USD"}}',
        b"\xff\xfe not utf-8",
        b"[]",
        b"null",
    ],
)
def test_malformed_json_in_a_signed_webhook_is_a_400(api_client, deposit, raw):
    assert_error(signed_sandbox(api_client, None, raw=raw), 400, "parse_error")
    assert not WebhookEvent.objects.exists()


def test_malformed_stripe_events_are_400s(api_client, settings):
    import time

    from tests.wallet.test_webhooks import stripe_signature

    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_stripe"
    for payload in (
        json.dumps({"id": "evt_1", "object": "event", "type": "payment_intent.succeeded"}),
        json.dumps(
            {
                "id": "evt_2",
                "object": "event",
                "type": "payment_intent.succeeded",
                "data": {"object": {"amount": "x"}},
            }
        ),
        json.dumps(
            {"id": "evt_" + "y" * 300, "object": "event", "type": "payout.paid", "data": {"object": {}}}
        ),
    ):
        response = post_webhook(
            api_client,
            "stripe",
            payload.encode(),
            HTTP_STRIPE_SIGNATURE=stripe_signature(payload, "whsec_test_stripe", int(time.time())),
        )
        assert_error(response, 400, "parse_error")
    assert not WebhookEvent.objects.exists()


def test_webhook_bodies_are_capped_with_a_413(api_client, deposit, settings):
    event = sandbox.build_events(deposit, outcome="succeeded")[1]
    event["data"]["padding"] = "p" * settings.WALLET_WEBHOOK_MAX_BYTES
    error = assert_error(signed_sandbox(api_client, event), 413, "payload_too_large")
    assert error["details"]["max_bytes"] == settings.WALLET_WEBHOOK_MAX_BYTES
    assert not WebhookEvent.objects.exists()


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=12,
)
EVENTS = st.fixed_dictionaries(
    {"id": JSON, "type": st.sampled_from(["payment.succeeded", "payment.failed", "x"]) | JSON, "data": JSON}
) | st.fixed_dictionaries(
    {
        "id": st.text(max_size=200),
        "type": st.just("payment.succeeded"),
        "data": st.fixed_dictionaries(
            {"payment_id": JSON, "amount_minor": JSON, "currency": JSON, "reason": JSON}
        ),
    }
)


@given(st.one_of(st.binary(max_size=200), EVENTS.map(lambda e: json.dumps(e, allow_nan=True).encode())))
@hypothesis_settings(max_examples=300, deadline=None)
def test_any_signed_sandbox_body_is_an_event_or_a_parse_error(body):
    """No database: the parser alone, on bodies that pass the signature check."""
    from wallet.providers import MAX_EVENT_ID_LENGTH
    from wallet.providers.sandbox import SandboxProvider

    try:
        event = SandboxProvider().parse_webhook(
            body=body, headers={sandbox.SIGNATURE_HEADER: sandbox.sign(body)}
        )
    except ApplicationError as error:
        assert (error.code, error.status) == ("parse_error", 400)
    else:
        assert isinstance(event.event_id, str) and 0 < len(event.event_id) <= MAX_EVENT_ID_LENGTH
        assert isinstance(event.payment_id, int) and 0 <= event.payment_id < 2**63
        assert isinstance(event.amount_minor, int) and 0 <= event.amount_minor <= 10_000_000_000
        assert "\\u0000" not in json.dumps(event.payload)


def test_the_process_refuses_to_start_with_the_sandbox_and_no_debug(settings):
    """ASGI servers run no system checks: the app itself refuses (fail closed)."""
    from django.apps import apps
    from django.core.exceptions import ImproperlyConfigured

    settings.DEBUG = False
    settings.SANDBOX_ALLOWED_WITHOUT_DEBUG = False
    with pytest.raises(ImproperlyConfigured, match="SANDBOX_ALLOWED_WITHOUT_DEBUG"):
        apps.get_app_config("wallet").ready()
    settings.PAYMENTS_PROVIDER = "stripe"
    apps.get_app_config("wallet").ready()  # Stripe in production starts


def test_an_unknown_payments_provider_is_a_check_error(settings):
    settings.PAYMENTS_PROVIDER = "paypal"
    assert "wallet.E003" in {message.id for message in checks.run_checks()}
