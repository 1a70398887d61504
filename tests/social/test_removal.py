"""A suspended or soft-deleted user leaves every public surface at once, and comes back
only when restored (issue 18, item 9)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from betthat.core.outbox import relay_outbox
from betthat.users.services import user_reactivate, user_restore, user_soft_delete, user_suspend
from betting.services import bet_settle
from social import selectors, services
from tests.betting.factories import make_game
from tests.factories import UserFactory
from tests.social.factories import bettor, place_and_relay, settled_public_bet

# (how the user is taken off, how they are brought back)
WAYS = {
    "suspended": (user_suspend, user_reactivate),
    "soft_deleted": (user_soft_delete, user_restore),
}


def public_view(handle: str, *, follower, followee) -> dict:
    """What the public, a follower of `handle` and a bettor `handle` follows can see."""
    page, api = Client(), APIClient()
    bob_api = APIClient()
    bob_api.force_authenticate(follower)
    carol_api = APIClient()
    carol_api.force_authenticate(followee)
    bob_page = Client()
    bob_page.force_login(follower)
    board = api.get("/api/v1/leaderboards/?window=7d&metric=roi").json()["results"]
    return {
        "page": page.get(f"/u/{handle}/").status_code,
        "profile api": api.get(f"/api/v1/profiles/{handle}/").status_code,
        "bets api": api.get(f"/api/v1/profiles/{handle}/bets/").status_code,
        "record api": api.get(f"/api/v1/profiles/{handle}/record/").status_code,
        "feed handles": {item["handle"] for item in bob_api.get("/api/v1/feed/").json()["results"]},
        "on feed page": f'href="/u/{handle}/"' in bob_page.get("/feed/").content.decode(),
        "board": [(row["rank"], row["handle"]) for row in board],
        "bob follows": [row["handle"] for row in bob_api.get("/api/v1/me/following/").json()["results"]],
        "carol's followers": [
            row["handle"] for row in carol_api.get("/api/v1/me/followers/").json()["results"]
        ],
        "carol's followers count": carol_api.get("/api/v1/profiles/rm_carol/").json()["followers_count"],
        "carol's private followers": carol_api.get("/api/v1/me/followers/").json()["private_count"],
    }


@pytest.mark.django_db
@pytest.mark.parametrize("way", WAYS)
def test_a_removed_user_leaves_every_public_surface_and_comes_back_on_restore(way, settings):
    settings.SOCIAL_LEADERBOARD_MIN_BETS = 3
    take_off, bring_back = WAYS[way]
    staff = UserFactory(is_staff=True, is_superuser=True)
    alice = bettor(handle="rm_alice")
    bob, carol, dan = bettor(handle="rm_bob"), bettor(handle="rm_carol"), bettor(handle="rm_dan")
    services.follow_create(follower=bob, handle="rm_alice")
    services.follow_create(follower=alice, handle="rm_carol")
    game = make_game()
    place_and_relay(alice, game)
    now = timezone.now()
    for user, profit in ((alice, 1000), (dan, 0)):  # alice ahead of dan on ROI
        for _ in range(3):
            result = "win" if profit else "push"
            settled_public_bet(
                user, profit=profit, result=result, settled_at=now - timedelta(hours=1), game=game
            )
    services.leaderboards_recompute(now=now)
    before = public_view("rm_alice", follower=bob, followee=carol)
    assert before == {
        "page": 200,
        "profile api": 200,
        "bets api": 200,
        "record api": 200,
        "feed handles": {"rm_alice"},
        "on feed page": True,
        "board": [(1, "rm_alice"), (2, "rm_dan")],
        "bob follows": ["rm_alice"],
        "carol's followers": ["rm_alice"],
        "carol's followers count": 1,
        "carol's private followers": 0,
    }

    take_off(user=alice, actor=staff, reason="test")
    gone = public_view("rm_alice", follower=bob, followee=carol)
    assert gone == {
        "page": 404,
        "profile api": 404,
        "bets api": 404,
        "record api": 404,
        "feed handles": set(),
        "on feed page": False,
        "board": [(1, "rm_dan")],  # at once, before any recompute, and ranked again
        "bob follows": [],
        "carol's followers": [],
        "carol's followers count": 0,
        "carol's private followers": 0,
    }
    follow = APIClient()
    follow.force_authenticate(dan)
    refused = follow.post("/api/v1/follows/", {"handle": "rm_alice"}, format="json")
    assert (refused.status_code, refused.json()["error"]["code"]) == (404, "not_found")
    run = services.leaderboards_recompute(now=now)  # a rebuild while removed leaves them out too
    assert run.rows["7d/roi"] == 1
    assert [row["handle"] for row in selectors.leaderboard(window="7d", metric="roi")] == ["rm_dan"]

    bring_back(user=alice, actor=staff, reason="test")
    services.leaderboards_recompute(now=now)
    assert public_view("rm_alice", follower=bob, followee=carol) == before


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("way", WAYS)
async def test_open_feeds_drop_a_removed_user_at_once(way, ws_headers_for):
    from betthat.asgi import application

    take_off, _bring_back = WAYS[way]
    alice = await sync_to_async(bettor)(handle=f"rmws_alice_{way}", delay=0)
    bob = await sync_to_async(bettor)(handle=f"rmws_bob_{way}")
    await sync_to_async(services.follow_create)(follower=bob, handle=f"rmws_alice_{way}")
    socket = WebsocketCommunicator(
        application, "/ws/social/", headers=await sync_to_async(ws_headers_for)(bob)
    )
    assert (await socket.connect(timeout=5))[0]
    assert await socket.receive_json_from(timeout=5) == {"type": "hello"}
    bet = await sync_to_async(place_and_relay)(alice)
    assert (await socket.receive_json_from(timeout=10))["type"] == "feed.item"

    await sync_to_async(take_off)(user=alice, reason="test")
    assert await socket.receive_json_from(timeout=10) == {
        "type": "feed.remove",
        "handle": f"rmws_alice_{way}",
    }
    # the bet's result, settled while they are off, is not sent either
    staff = await sync_to_async(UserFactory)(is_staff=True, is_superuser=True)
    await sync_to_async(bet_settle)(bet_id=bet.pk, result="win", staff=staff, reason="test")
    await sync_to_async(relay_outbox)()
    assert await socket.receive_nothing(timeout=0.5)
    await socket.disconnect()
