"""The social API: every endpoint, its refusals in the error shape, cursor pagination,
and the OpenAPI schema."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from rest_framework.test import APIClient

from social.models import Follow, Profile, PublicBet
from tests.betting.factories import make_game
from tests.social.factories import bettor, place_and_relay, profile

pytestmark = pytest.mark.django_db


def as_user(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    return body["error"]


def test_my_profile_get_and_patch():
    me = bettor(handle="api_me", public=False)
    client = as_user(me)
    body = client.get("/api/v1/me/profile/").json()
    assert (body["handle"], body["is_public"], body["is_owner"]) == ("api_me", False, True)
    body = client.patch(
        "/api/v1/me/profile/",
        {
            "handle": "Api_Me2",
            "is_public": True,
            "stake_visibility": "rounded",
            "live_delay_sec": 60,
            "bio": "EV only",
        },
        format="json",
    ).json()
    assert (
        body["handle"],
        body["is_public"],
        body["stake_visibility"],
        body["live_delay_sec"],
        body["bio"],
    ) == (
        "api_me2",
        True,
        "rounded",
        60,
        "EV only",
    )


@pytest.mark.parametrize(
    ("payload", "status", "code", "field"),
    [
        ({"handle": "no"}, 400, "invalid_handle", "handle"),
        ({"handle": "root"}, 400, "invalid_handle", "handle"),
        ({"handle": "taken_one"}, 409, "handle_taken", "handle"),
        ({"live_delay_sec": 86_401}, 400, "validation_error", "live_delay_sec"),
        ({"live_delay_sec": "soon"}, 400, "validation_error", "live_delay_sec"),
        ({"stake_visibility": "shout"}, 400, "validation_error", "stake_visibility"),
        ({"bio": "x" * 281}, 400, "validation_error", "bio"),
        ({"is_public": "perhaps"}, 400, "validation_error", "is_public"),
    ],
)
def test_bad_profile_changes_are_refused_and_change_nothing(payload, status, code, field):
    bettor(handle="taken_one")
    me = bettor(handle="api_keep", public=False)
    before = Profile.objects.filter(user=me).values().get()
    details = error(as_user(me).patch("/api/v1/me/profile/", payload, format="json"), status, code)["details"]
    assert field in details
    assert Profile.objects.filter(user=me).values().get() == before


def test_a_private_profile_is_a_404_to_others_and_visible_to_its_owner():
    owner = bettor(handle="api_private", public=False)
    other = bettor(handle="api_other")
    for client in (APIClient(), as_user(other)):
        for path in ("", "bets/", "record/"):
            error(client.get(f"/api/v1/profiles/api_private/{path}"), 404, "not_found")
    assert as_user(owner).get("/api/v1/profiles/api_private/").json()["is_owner"] is True
    error(APIClient().get("/api/v1/profiles/nobody_at_all/"), 404, "not_found")


def test_follow_endpoints():
    star = bettor(handle="api_star")
    fan = bettor(handle="api_fan")
    shy = bettor(handle="api_shy", public=False)
    client = as_user(fan)
    assert client.post("/api/v1/follows/", {"handle": "API_STAR"}, format="json").status_code == 201
    assert client.post("/api/v1/follows/", {"handle": "api_star"}, format="json").json() == {
        "handle": "api_star",
        "created": False,
    }
    error(client.post("/api/v1/follows/", {"handle": "api_fan"}, format="json"), 400, "cannot_follow_self")
    error(client.post("/api/v1/follows/", {"handle": "api_shy"}, format="json"), 404, "not_found")
    error(client.post("/api/v1/follows/", {}, format="json"), 400, "validation_error")
    error(client.post("/api/v1/follows/", "not json", content_type="application/json"), 400, "parse_error")
    error(
        APIClient().post("/api/v1/follows/", {"handle": "api_star"}, format="json"), 401, "not_authenticated"
    )
    as_user(shy).post("/api/v1/follows/", {"handle": "api_star"}, format="json")

    assert client.get("/api/v1/me/following/").json() == {
        "count": 1,
        "results": [{"handle": "api_star", "bio": ""}],
    }
    followers = as_user(star).get("/api/v1/me/followers/").json()
    assert followers == {"count": 1, "private_count": 1, "results": [{"handle": "api_fan", "bio": ""}]}
    star_profile = client.get("/api/v1/profiles/api_star/").json()
    assert (star_profile["followers_count"], star_profile["is_following"]) == (2, True)

    assert client.delete("/api/v1/follows/api_star/").status_code == 204
    error(client.delete("/api/v1/follows/api_star/"), 404, "not_following")
    assert not Follow.objects.filter(follower=fan).exists() and shy


def test_the_feed_pages_with_a_cursor_newest_first():
    star = bettor(handle="api_feedstar")
    fan = bettor(handle="api_feedfan")
    as_user(fan).post("/api/v1/follows/", {"handle": "api_feedstar"}, format="json")
    game = make_game()
    bets = [
        place_and_relay(star, game, alias=alias)
        for alias in ("home_ml", "over", "under", "away_ml", "home_spread")
    ]
    client = as_user(fan)
    seen, cursor = [], ""
    while True:
        body = client.get("/api/v1/feed/", {"limit": 2, "cursor": cursor}).json()
        seen += [item["bet_id"] for item in body["results"]]
        assert len(body["results"]) <= 2
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert seen == [b.pk for b in reversed(bets)]
    # a bet published later shows on top without shifting the pages already read
    PublicBet.objects.filter(bet_id=bets[0].pk).update(visible_from=timezone.now() + timedelta(days=1))
    assert bets[0].pk not in [i["bet_id"] for i in client.get("/api/v1/feed/").json()["results"]]
    item = client.get("/api/v1/feed/").json()["results"][0]
    assert (item["handle"], item["event"], item["selection"], item["sportsbook"]) == (
        "api_feedstar",
        "Chargers @ Chiefs",
        "Chiefs -3.5",
        "draftkings",
    )
    assert item["odds_american"] == "+100" and item["odds_decimal"] == "2"


@pytest.mark.parametrize(
    ("query", "code"),
    [
        ("cursor=garbage!!", "invalid_cursor"),
        ("cursor=bm90LWEtY3Vyc29y", "invalid_cursor"),
        ("limit=0", "validation_error"),
        ("limit=101", "validation_error"),
        ("limit=x", "validation_error"),
    ],
)
def test_bad_feed_parameters_are_a_400(query, code):
    fan = bettor(handle="api_badq")
    error(as_user(fan).get(f"/api/v1/feed/?{query}"), 400, code)


def test_me_endpoints_need_a_login():
    for path in ("/api/v1/me/profile/", "/api/v1/me/following/", "/api/v1/me/followers/", "/api/v1/feed/"):
        error(APIClient().get(path), 401, "not_authenticated")


def test_profile_record_summary_counts_only_visible_public_bets():
    star = bettor(handle="api_counts", delay=0)
    place_and_relay(star)
    assert APIClient().get("/api/v1/profiles/api_counts/").json()["record"]["bets"] == 1
    assert profile(star).is_public


def test_the_schema_has_the_social_endpoints_and_no_warnings(tmp_path):
    target = tmp_path / "schema.yml"
    call_command("spectacular", "--file", str(target), "--fail-on-warn", "--validate")
    schema = target.read_text()
    for path in (
        "/api/v1/me/profile/",
        "/api/v1/profiles/{handle}/",
        "/api/v1/profiles/{handle}/bets/",
        "/api/v1/profiles/{handle}/record/",
        "/api/v1/follows/",
        "/api/v1/follows/{handle}/",
        "/api/v1/me/following/",
        "/api/v1/me/followers/",
        "/api/v1/feed/",
        "/api/v1/leaderboards/",
        "/api/v1/people/",
    ):
        assert f"{path}:" in schema, path
