"""The wallet API: shapes, scoping, idempotency and every error code in the public shape."""

from datetime import timedelta

import pytest
from django.utils import timezone

from tests.factories import UserFactory
from tests.wallet.factories import fund_user
from wallet.models import IdempotencyKey, Payment, Transaction
from wallet.providers import sandbox
from wallet.services import wallet_hold

pytestmark = pytest.mark.django_db


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    return body["error"]


def post(client, path, data, key="k1"):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(path, data, format="json", **headers)


def test_wallet_balances_as_decimal_strings(user, user_client):
    fund_user(user, 123_456)
    wallet_hold(user=user, amount_minor=10_001, currency="USD", bet_id=900)
    response = user_client.get("/api/v1/wallet/")
    assert response.json() == {
        "currency": "USD",
        "available": "1134.55",
        "held": "100.01",
        "total": "1234.56",
    }


def test_anonymous_is_refused(api_client):
    assert_error(api_client.get("/api/v1/wallet/"), 401, "not_authenticated")


def test_deposit_returns_the_checkout_and_replays(user, user_client):
    response = post(user_client, "/api/v1/wallet/deposits/", {"amount": "50.00", "currency": "USD"})
    assert response.status_code == 201
    body = response.json()
    assert body["amount"] == "50.00" and body["status"] == "pending" and body["direction"] == "DEPOSIT"
    assert body["checkout_url"].endswith(f"/wallet/sandbox/checkout/{body['id']}/")
    replay = post(user_client, "/api/v1/wallet/deposits/", {"amount": "50.00", "currency": "USD"})
    assert replay.status_code == 201 and replay.json() == body and replay["Idempotent-Replayed"] == "true"
    assert Payment.objects.count() == 1


def test_same_key_different_body_is_a_conflict(user, user_client):
    post(user_client, "/api/v1/wallet/deposits/", {"amount": "50.00", "currency": "USD"})
    error = assert_error(
        post(user_client, "/api/v1/wallet/deposits/", {"amount": "51.00", "currency": "USD"}),
        409,
        "idempotency_conflict",
    )
    assert error["details"]["scope"] == "wallet.deposit"
    assert Payment.objects.count() == 1


def test_missing_idempotency_key(user_client):
    assert_error(
        post(user_client, "/api/v1/wallet/withdrawals/", {"amount": "1.00"}, key=None),
        400,
        "idempotency_key_required",
    )
    assert Payment.objects.count() == 0


@pytest.mark.parametrize(
    "amount",
    ["0", "0.00", "-5", "1.005", "12.345", "1e12", "99999999999", "abc", "", None, True, "NaN", "Infinity"],
)
def test_invalid_amounts(user, user_client, amount):
    fund_user(user, 10_000)
    for path in ("/api/v1/wallet/deposits/", "/api/v1/wallet/withdrawals/"):
        assert_error(
            post(user_client, path, {"amount": amount, "currency": "USD"}, key=f"{path}{amount}"),
            400,
            "invalid_amount",
        )
    assert Payment.objects.count() == 1 and IdempotencyKey.objects.count() == 0


def test_withdraw_more_than_available_is_insufficient_funds(user, user_client):
    fund_user(user, 1_000)
    error = assert_error(
        post(user_client, "/api/v1/wallet/withdrawals/", {"amount": "10.01"}), 409, "insufficient_funds"
    )
    assert error["details"]["available"] == "10.00"
    assert user_client.get("/api/v1/wallet/").json()["available"] == "10.00"
    # A refused request does not burn its key: the retry (after topping up) succeeds.
    fund_user(user, 1)
    assert post(user_client, "/api/v1/wallet/withdrawals/", {"amount": "10.01"}).status_code == 201


def test_withdrawal_is_held_then_paid_out(user, user_client):
    fund_user(user, 10_000)
    response = post(user_client, "/api/v1/wallet/withdrawals/", {"amount": "25.00"})
    assert response.status_code == 201
    assert user_client.get("/api/v1/wallet/").json() == {
        "currency": "USD",
        "available": "75.00",
        "held": "25.00",
        "total": "100.00",
    }
    payment = Payment.objects.get(pk=response.json()["id"])
    sandbox.deliver(sandbox.build_events(payment, outcome="succeeded"))
    assert user_client.get("/api/v1/wallet/").json()["total"] == "75.00"
    assert user_client.get(f"/api/v1/wallet/payments/{payment.pk}/").json()["status"] == "succeeded"


def test_limit_exceeded_and_self_excluded(user, user_client):
    response = user_client.put("/api/v1/wallet/limits/", {"period": "day", "amount": "20.00"}, format="json")
    assert response.status_code == 200 and response.json()[0]["amount"] == "20.00"
    error = assert_error(
        post(user_client, "/api/v1/wallet/deposits/", {"amount": "20.01"}), 409, "limit_exceeded"
    )
    assert error["details"]["period"] == "day"
    user.self_excluded_until = timezone.now() + timedelta(days=1)
    user.save()
    assert_error(
        post(user_client, "/api/v1/wallet/deposits/", {"amount": "1.00"}, key="k2"), 403, "self_excluded"
    )
    assert Payment.objects.count() == 0


def test_suspended_user_is_refused(user, user_client):
    user.status = "suspended"
    user.save()
    assert_error(post(user_client, "/api/v1/wallet/deposits/", {"amount": "1.00"}), 403, "account_suspended")


def test_bad_currency_and_body(user_client):
    assert_error(
        post(user_client, "/api/v1/wallet/deposits/", {"amount": "1.00", "currency": "XYZ"}),
        400,
        "validation_error",
    )
    assert_error(
        post(user_client, "/api/v1/wallet/deposits/", {"currency": "USD"}, key="k2"), 400, "validation_error"
    )
    response = user_client.post(
        "/api/v1/wallet/deposits/", "{not json", content_type="application/json", HTTP_IDEMPOTENCY_KEY="k3"
    )
    assert_error(response, 400, "parse_error")
    assert_error(user_client.get("/api/v1/wallet/transactions/?type=NOPE"), 400, "validation_error")
    assert_error(user_client.delete("/api/v1/wallet/"), 405, "method_not_allowed")


def test_transactions_are_scoped_filtered_and_paginated(user, user_client):
    other = UserFactory()
    fund_user(other, 5_000)
    fund_user(user, 10_000)
    for bet_id in range(1, 31):
        wallet_hold(user=user, amount_minor=100, currency="USD", bet_id=bet_id)
    page = user_client.get("/api/v1/wallet/transactions/?page_size=10").json()
    assert len(page["results"]) == 10 and page["next"]
    assert all(tx["type"] == "BET_PLACED" for tx in page["results"])
    assert page["results"][0]["entries"][0]["account"] in ("cash", "holds")
    assert {e["amount"] for e in page["results"][0]["entries"]} == {"-1.00", "1.00"}
    seen = []
    url = "/api/v1/wallet/transactions/?page_size=10"
    while url:
        body = user_client.get(url).json()
        seen += [tx["id"] for tx in body["results"]]
        url = body["next"]
    assert len(seen) == 31 == len(set(seen))
    assert set(seen) == set(Transaction.objects.filter(user=user).values_list("id", flat=True))
    deposits = user_client.get("/api/v1/wallet/transactions/?type=DEPOSIT&status=completed").json()["results"]
    assert [tx["amount"] for tx in deposits] == ["100.00"]


def test_a_user_cannot_see_another_users_payment(user, user_client):
    other = UserFactory()
    payment = fund_user(other, 5_000)
    assert_error(user_client.get(f"/api/v1/wallet/payments/{payment.pk}/"), 404, "not_found")


def test_limits_raise_waits_for_cooling_off(user_client):
    user_client.put("/api/v1/wallet/limits/", {"period": "week", "amount": "100.00"}, format="json")
    body = user_client.put(
        "/api/v1/wallet/limits/", {"period": "week", "amount": "500.00"}, format="json"
    ).json()
    week = next(limit for limit in body if limit["period"] == "week")
    assert week["amount"] == "100.00" and week["pending_amount"] == "500.00" and week["pending_effective_at"]
