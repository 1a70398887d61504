"""The webhook endpoint: signatures on the raw body, a 300-second window, once-only effects."""

import hashlib
import hmac
import json
import time

import pytest

from tests.factories import UserFactory
from wallet.models import Payment, WebhookEvent
from wallet.providers import sandbox
from wallet.selectors import wallet_balances_for_user
from wallet.services import wallet_deposit_start

pytestmark = pytest.mark.django_db
URL = "/api/v1/payments/webhooks/{}/"


def post(api_client, provider, body: bytes, **headers):
    return api_client.generic("POST", URL.format(provider), body, content_type="application/json", **headers)


@pytest.fixture
def payment():
    return wallet_deposit_start(user=UserFactory(), amount_minor=2_500, provider="sandbox")


def success_body(payment):
    return json.dumps(sandbox.build_events(payment, outcome="succeeded")[1]).encode()


def test_a_signed_webhook_credits_the_deposit(api_client, payment):
    body = success_body(payment)
    response = post(api_client, "sandbox", body, HTTP_SANDBOX_SIGNATURE=sandbox.sign(body))
    assert response.status_code == 200 and response.json()["outcome"] == "succeeded"
    assert wallet_balances_for_user(user=payment.user).available_minor == 2_500
    again = post(api_client, "sandbox", body, HTTP_SANDBOX_SIGNATURE=sandbox.sign(body))
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert wallet_balances_for_user(user=payment.user).available_minor == 2_500


@pytest.mark.parametrize(
    "make_header",
    [
        lambda body: sandbox.sign(body, secret="whsec_forged"),
        lambda body: sandbox.sign(body, timestamp=int(time.time()) - 301),
        lambda body: sandbox.sign(body, timestamp=int(time.time()) + 301),
        lambda body: sandbox.sign(body + b" "),
        lambda body: "t=abc,v1=00",
        lambda body: "",
    ],
    ids=["forged", "stale", "future", "body-changed", "malformed", "missing"],
)
def test_forged_or_stale_webhooks_are_rejected_and_change_nothing(api_client, payment, make_header):
    body = success_body(payment)
    response = post(api_client, "sandbox", body, HTTP_SANDBOX_SIGNATURE=make_header(body))
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "invalid_signature"
    assert WebhookEvent.objects.count() == 0
    payment.refresh_from_db()
    assert payment.status == "pending"
    assert wallet_balances_for_user(user=payment.user).available_minor == 0


def test_a_late_processing_event_does_not_undo_success(api_client, payment):
    processing, succeeded = sandbox.build_events(payment, outcome="succeeded")
    for event in (succeeded, processing):
        body = json.dumps(event).encode()
        post(api_client, "sandbox", body, HTTP_SANDBOX_SIGNATURE=sandbox.sign(body))
    payment.refresh_from_db()
    assert payment.status == "succeeded"
    assert list(WebhookEvent.objects.order_by("id").values_list("outcome", flat=True)) == [
        "succeeded",
        "already succeeded",
    ]


def test_an_amount_mismatch_is_recorded_without_effect(api_client, payment):
    event = sandbox.build_events(payment, outcome="succeeded")[1]
    event["data"]["amount_minor"] = 999_999
    body = json.dumps(event).encode()
    response = post(api_client, "sandbox", body, HTTP_SANDBOX_SIGNATURE=sandbox.sign(body))
    assert response.json()["outcome"].startswith("ignored")
    assert wallet_balances_for_user(user=payment.user).available_minor == 0


def test_unknown_provider_and_bad_json(api_client):
    assert post(api_client, "paypal", b"{}").json()["error"]["code"] == "not_found"
    body = b"not json"
    response = post(api_client, "sandbox", body, HTTP_SANDBOX_SIGNATURE=sandbox.sign(body))
    assert response.status_code == 400 and response.json()["error"]["code"] == "parse_error"


def stripe_signature(payload: str, secret: str, timestamp: int | None = None) -> str:
    timestamp = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{timestamp}.{payload}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def stripe_event(payment, event_type="payment_intent.succeeded", event_id="evt_stripe_1"):
    return json.dumps(
        {
            "id": event_id,
            "object": "event",
            "type": event_type,
            "api_version": "2024-06-20",
            "created": int(time.time()),
            "data": {
                "object": {
                    "id": payment.provider_transaction_id,
                    "object": "payment_intent",
                    "amount": payment.amount_minor,
                    "currency": payment.currency.lower(),
                    "metadata": {"payment_id": str(payment.pk)},
                    "last_payment_error": {"message": "Your card has insufficient funds."},
                }
            },
        }
    )


@pytest.fixture
def stripe_payment(settings):
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_stripe"
    user = UserFactory()
    return Payment.objects.create(
        user=user,
        direction="DEPOSIT",
        amount_minor=4_200,
        currency="USD",
        provider="stripe",
        provider_transaction_id="pi_test_123",
    )


def test_stripe_signed_payment_intent_succeeded_credits_once(api_client, stripe_payment):
    from wallet.models import Transaction

    Transaction.objects.create(
        user=stripe_payment.user, payment=stripe_payment, type="DEPOSIT", status="pending", amount_minor=4_200
    )
    payload = stripe_event(stripe_payment)
    for _ in range(2):
        response = post(
            api_client,
            "stripe",
            payload.encode(),
            HTTP_STRIPE_SIGNATURE=stripe_signature(payload, "whsec_test_stripe"),
        )
        assert response.status_code == 200
    stripe_payment.refresh_from_db()
    assert stripe_payment.status == "succeeded"
    assert wallet_balances_for_user(user=stripe_payment.user).available_minor == 4_200
    assert WebhookEvent.objects.filter(provider="stripe").count() == 1


def test_stripe_payment_failed_marks_the_deposit_failed(api_client, stripe_payment):
    from wallet.models import Transaction

    Transaction.objects.create(
        user=stripe_payment.user, payment=stripe_payment, type="DEPOSIT", status="pending", amount_minor=4_200
    )
    payload = stripe_event(stripe_payment, "payment_intent.payment_failed", "evt_stripe_2")
    response = post(
        api_client,
        "stripe",
        payload.encode(),
        HTTP_STRIPE_SIGNATURE=stripe_signature(payload, "whsec_test_stripe"),
    )
    assert response.json()["outcome"] == "failed"
    stripe_payment.refresh_from_db()
    assert stripe_payment.failure_reason == "Your card has insufficient funds."


@pytest.mark.parametrize(
    "secret,age", [("whsec_wrong", 0), ("whsec_test_stripe", 301)], ids=["forged", "stale"]
)
def test_stripe_forged_or_stale_is_rejected(api_client, stripe_payment, secret, age):
    payload = stripe_event(stripe_payment)
    header = stripe_signature(payload, secret, timestamp=int(time.time()) - age)
    response = post(api_client, "stripe", payload.encode(), HTTP_STRIPE_SIGNATURE=header)
    assert response.status_code == 401 and response.json()["error"]["code"] == "invalid_signature"
    assert WebhookEvent.objects.count() == 0
    stripe_payment.refresh_from_db()
    assert stripe_payment.status == "pending"
