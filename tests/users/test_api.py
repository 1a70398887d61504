import pytest

from betthat.users import services
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)


def test_me_with_token_returns_the_users_fields(user, user_client):
    response = user_client.get("/api/v1/me/")
    assert response.status_code == 200
    body = response.json()
    assert body["email"] == user.email
    assert body["status"] == "active"
    assert body["max_bet_size"] == {"amount": "1000.00", "currency": "USD"}
    assert body["risk_tolerance"] == "medium"
    assert body["max_kelly_fraction"] == "0.2500"


def test_me_accepts_bearer_scheme(user, api_client):
    token = services.user_token_get_or_create(user=user)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get("/api/v1/me/").json()["id"] == user.pk


def test_me_without_auth_is_401_in_error_shape(api_client):
    response = api_client.get("/api/v1/me/")
    assert_error(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Token")


def test_bad_token_is_401(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token nope")
    assert_error(api_client.get("/api/v1/me/"), 401, "authentication_failed")


@pytest.mark.parametrize("path", ["/api/v1/nothing-here/", "/api/v2/me/", "/api/v1/me/extra/"])
def test_unknown_api_path_is_404_in_error_shape(api_client, path):
    assert_error(api_client.get(path), 404, "not_found")


def test_wrong_method_is_405(user_client):
    assert_error(user_client.delete("/api/v1/me/"), 405, "method_not_allowed")


def test_token_endpoint_exchanges_credentials(api_client, user):
    response = api_client.post(
        "/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    token = response.json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert api_client.get("/api/v1/me/").json()["email"] == user.email


def test_token_endpoint_validation_error_shape(api_client):
    response = api_client.post("/api/v1/auth/token/", {"email": "not-an-email"}, format="json")
    assert_error(response, 400, "validation_error")
    assert set(response.json()["error"]["details"]) == {"email", "password"}


def test_token_endpoint_wrong_password(api_client, user):
    response = api_client.post(
        "/api/v1/auth/token/", {"email": user.email, "password": "wrong"}, format="json"
    )
    assert_error(response, 401, "invalid_credentials")


def test_suspended_user_gets_403_from_the_api(user, user_client):
    services.user_suspend(user=user)
    assert_error(user_client.get("/api/v1/me/"), 403, "account_suspended")


def test_suspended_user_cannot_get_a_token(api_client, user):
    services.user_suspend(user=user)
    response = api_client.post(
        "/api/v1/auth/token/", {"email": user.email, "password": PASSWORD}, format="json"
    )
    assert_error(response, 403, "account_suspended")


def test_token_endpoint_is_throttled_with_429(api_client, settings):
    """Failed attempts: five per account and per address (allauth's login budget, shared with
    the login page), then the endpoint's own ten requests a minute per client."""
    user = UserFactory()
    responses = [
        api_client.post("/api/v1/auth/token/", {"email": user.email, "password": "x"}, format="json")
        for _ in range(11)
    ]
    assert [r.status_code for r in responses[:5]] == [401] * 5
    for response in responses[5:10]:
        assert_error(response, 429, "too_many_attempts")
    assert_error(responses[10], 429, "throttled")
    assert responses[10].json()["error"]["details"]["retry_after_seconds"] > 0


def test_schema_and_docs_are_served(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/me/" in schema.content
    assert client.get("/api/docs/").status_code == 200
