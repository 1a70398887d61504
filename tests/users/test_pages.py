import pytest
from django.core import mail

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/accounts/signup/", "/accounts/password/reset/"])
def test_public_pages_render(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert b"Bet<span>" in response.content


@pytest.mark.parametrize(
    "path,marker",
    [
        ("/leaderboards/", b"empty-state"),
        ("/chat/", b"empty-state"),
        ("/account/settings/", b"settings-form"),
        ("/accounts/2fa/", b"Authenticator"),
    ],
)
def test_logged_in_pages_render_with_navigation(client, path, marker):
    client.force_login(UserFactory())
    response = client.get(path)
    assert response.status_code == 200
    for item in (b"Edges", b"My bets", b"Wallet", b"Leaderboards", b"Chat"):
        assert item in response.content
    assert marker in response.content


def test_password_reset_sends_an_email(client):
    user = UserFactory()
    response = client.post("/accounts/password/reset/", {"email": user.email})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    assert "/accounts/password/reset/key/" in mail.outbox[0].body


def test_settings_page_saves_preferences(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        "/account/settings/",
        {
            "name": "Alice",
            "phone": "",
            "timezone": "Europe/London",
            "risk_tolerance": "high",
            "auto_kelly_sizing": "on",
            "max_kelly_fraction": "0.1",
            "odds_format": "decimal",
            "devig_method": "shin",
            "reference": "consensus",
            "favourite_sports": "basketball_nba, soccer_epl",
            "notify_settlements": "on",
        },
    )
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.timezone == "Europe/London"
    assert user.risk_tolerance == "high"
    assert str(user.max_kelly_fraction) == "0.1000"
    assert user.preferences["pricing"] == {"devig_method": "shin", "reference": "consensus"}
    assert user.preferences["favourite_sports"] == ["basketball_nba", "soccer_epl"]
    assert user.preferences["odds_format"] == "decimal"
    assert user.preferences["notify_settlements"] is True
    assert user.preferences["notify_deposits"] is False


def test_settings_page_rejects_kelly_above_one_and_changes_nothing(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        "/account/settings/",
        {
            "name": "X",
            "timezone": "UTC",
            "risk_tolerance": "low",
            "max_kelly_fraction": "1.5",
            "odds_format": "american",
            "devig_method": "power",
            "reference": "sharp",
        },
    )
    assert response.status_code == 200
    user.refresh_from_db()
    assert str(user.max_kelly_fraction) == "0.2500"
    assert user.risk_tolerance == "medium"


def test_patch_me_updates_settings(user, user_client):
    response = user_client.patch(
        "/api/v1/me/",
        {"risk_tolerance": "low", "preferences": {"pricing": {"devig_method": "power"}}},
        format="json",
    )
    assert response.status_code == 200, response.content
    assert response.json()["risk_tolerance"] == "low"
    assert response.json()["preferences"]["pricing"]["devig_method"] == "power"
    assert response.json()["preferences"]["pricing"]["reference"] == "sharp"


def test_patch_me_rejects_bad_values_in_error_shape(user, user_client):
    response = user_client.patch(
        "/api/v1/me/", {"max_kelly_fraction": "2", "preferences": {"hack": 1}}, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["details"]) == {"max_kelly_fraction", "preferences"}
    user.refresh_from_db()
    assert str(user.max_kelly_fraction) == "0.2500"
