"""Preferences are typed on write (issue 8 item 9, issue 9 item 6): one schema, used by the
API and the settings page; a wrong type is a 400 in the error shape, never a broken page later."""

from __future__ import annotations

import pytest

from betthat.users.preferences import Preferences, from_legacy
from betthat.users.selectors import user_preferences
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def patch(client, preferences):
    return client.patch("/api/v1/me/", {"preferences": preferences}, format="json")


@pytest.mark.parametrize(
    "preferences,field",
    [
        ("dark", None),
        (["odds_format"], None),
        ({"pricing": "shin"}, "pricing"),
        ({"pricing": {"devig_method": 3}}, "pricing"),
        ({"pricing": {"devig_method": "guess"}}, "pricing"),
        ({"odds_format": "roman"}, "odds_format"),
        ({"odds_format": ["decimal"]}, "odds_format"),
        ({"favourite_sports": "basketball_nba"}, "favourite_sports"),
        ({"favourite_sports": [{"key": "nba"}]}, "favourite_sports"),
        ({"favourite_sports": ["<script>"]}, "favourite_sports"),
        ({"notify_deposits": "yes"}, "notify_deposits"),
        ({"notify_settlements": 1}, "notify_settlements"),
        ({"notify_settlements": None}, "notify_settlements"),
        ({"theme": {"dark": True}}, "theme"),
        ({"hack": 1}, "hack"),
    ],
)
def test_wrong_types_are_a_400_and_change_nothing(user, user_client, preferences, field):
    before = user_preferences(user=user)
    response = patch(user_client, preferences)
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert "preferences" in error["details"]
    if field is not None:
        assert field in str(error["details"]["preferences"])
    user.refresh_from_db()
    assert user_preferences(user=user) == before


def test_every_key_is_typed_and_stored(user, user_client):
    response = patch(
        user_client,
        {
            "odds_format": "fractional",
            "favourite_sports": ["basketball_nba", "soccer_epl"],
            "notify_settlements": False,
            "notify_deposits": False,
            "pricing": {"devig_method": "shin"},
        },
    )
    assert response.status_code == 200, response.content
    stored = response.json()["preferences"]
    assert stored["odds_format"] == "fractional"
    assert stored["favourite_sports"] == ["basketball_nba", "soccer_epl"]
    assert stored["notify_settlements"] is False
    assert stored["notify_deposits"] is False
    assert stored["pricing"] == {"devig_method": "shin", "reference": "sharp"}
    user.refresh_from_db()
    prefs = user_preferences(user=user)
    assert prefs == Preferences(
        odds_format="fractional",
        favourite_sports=("basketball_nba", "soccer_epl"),
        notify_settlements=False,
        notify_deposits=False,
        notify_email=True,
        theme="dark",
        devig_method="shin",
        reference="sharp",
    )


def test_a_new_user_has_every_default():
    prefs = user_preferences(user=UserFactory())
    assert prefs.odds_format == "american"
    assert prefs.favourite_sports == ()
    assert prefs.notify_settlements is True
    assert prefs.notify_deposits is True


def test_a_broken_stored_value_reads_as_the_default():
    """Rows written before validation existed never break a page."""
    user = UserFactory()
    user.preferences = {"pricing": "x", "odds_format": 7, "favourite_sports": "nba", "notify_deposits": "no"}
    user.save(update_fields=["preferences"])
    prefs = user_preferences(user=user)
    assert (prefs.devig_method, prefs.odds_format, prefs.favourite_sports, prefs.notify_deposits) == (
        "multiplicative",
        "american",
        (),
        True,
    )


def test_the_legacy_nested_shape_converts():
    legacy = {
        "sports": ["basketball_nba"],
        "notifications": {"bet_settled": False, "edges": True, "email": False},
        "ui": {"odds_format": "decimal", "theme": "light"},
        "pricing": {"devig_method": "power", "reference": "consensus"},
    }
    assert from_legacy(legacy) == {
        "odds_format": "decimal",
        "favourite_sports": ["basketball_nba"],
        "notify_settlements": False,
        "notify_deposits": True,
        "notify_email": False,
        "theme": "light",
        "pricing": {"devig_method": "power", "reference": "consensus"},
    }


def test_the_settings_page_refuses_a_bad_sport_key(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        "/account/settings/",
        {
            "name": "A",
            "timezone": "UTC",
            "risk_tolerance": "low",
            "max_kelly_fraction": "0.1",
            "odds_format": "fractional",
            "devig_method": "shin",
            "reference": "sharp",
            "favourite_sports": "basketball_nba, <b>x</b>",
        },
    )
    assert response.status_code == 200
    assert b"sport key" in response.content
    user.refresh_from_db()
    assert user_preferences(user=user).favourite_sports == ()
