"""What others see, on every surface (page HTML, API JSON, websocket frames): nothing
before `visible_from`, and the stake only as the bettor allows."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import time_machine
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from rest_framework.test import APIClient

from betthat.core.outbox import relay_outbox
from betting.selectors import manual_settlement_pending_id
from betting.services import bet_settle, manual_settlement_approve
from social import services
from tests.betting.factories import make_game
from tests.factories import UserFactory
from tests.social.factories import HIDDEN_STAKE, bettor, place_and_relay

# 987.65 at draftkings 2.20: return 2,172.83, profit 1,185.18. None of these may leak.
STAKE_TEXTS = ["987.65", "98765", "987,65"]
MONEY_TEXTS = ["2172.83", "2,172.83", "217283", "1185.18", "1,185.18", "118518"]


def clients_for(user):
    page = Client()
    page.force_login(user)
    api = APIClient()
    api.force_authenticate(user)
    return page, api


def surfaces(handle: str, page: Client, api: APIClient) -> dict[str, str]:
    return {
        "profile page": page.get(f"/u/{handle}/").content.decode(),
        "feed page": page.get("/feed/").content.decode(),
        "feed api": json.dumps(api.get("/api/v1/feed/").json()),
        "profile bets api": json.dumps(api.get(f"/api/v1/profiles/{handle}/bets/").json()),
        "profile api": json.dumps(api.get(f"/api/v1/profiles/{handle}/").json()),
        "record api": json.dumps(api.get(f"/api/v1/profiles/{handle}/record/").json()),
    }


@pytest.mark.django_db
def test_nothing_before_visible_from_anywhere_then_everything_after():
    alice = bettor(handle="alice_delay", delay=60, stake="exact")
    bob = bettor(handle="bob_watch")
    services.follow_create(follower=bob, handle="alice_delay")
    bet = place_and_relay(alice, stake=4321)
    page, api = clients_for(bob)
    marker = 'data-public-bet-id="'

    with time_machine.travel(bet.placed_at + timedelta(seconds=59), tick=False):
        seen = surfaces("alice_delay", page, api)
        assert marker not in seen["profile page"] and marker not in seen["feed page"]
        assert json.loads(seen["feed api"])["results"] == []
        assert json.loads(seen["profile bets api"])["results"] == []
        record = json.loads(seen["profile api"])["record"]
        assert (record["bets"], record["pending"], record["by_sport"]) == (0, 0, {})
        assert json.loads(seen["record api"])["entries"] == []
        for name, text in seen.items():
            assert "43.21" not in text and "4321" not in text, name
        # the anonymous public sees nothing either; the owner sees the bet, marked delayed
        assert APIClient().get("/api/v1/profiles/alice_delay/bets/").json()["results"] == []
        owner_page, owner_api = clients_for(alice)
        mine = owner_api.get("/api/v1/profiles/alice_delay/bets/").json()["results"]
        assert [(i["bet_id"], i["is_visible"]) for i in mine] == [(bet.pk, False)]
        assert 'data-testid="delayed-badge"' in owner_page.get("/u/alice_delay/").content.decode()

    with time_machine.travel(bet.placed_at + timedelta(seconds=60), tick=False):
        seen = surfaces("alice_delay", page, api)
        assert 'data-public-bet-id="' in seen["profile page"] and marker in seen["feed page"]
        assert [i["bet_id"] for i in json.loads(seen["feed api"])["results"]] == [bet.pk]
        assert [i["bet_id"] for i in json.loads(seen["profile bets api"])["results"]] == [bet.pk]
        assert json.loads(seen["profile api"])["record"]["bets"] == 1
        assert [e["bet_id"] for e in json.loads(seen["record api"])["entries"]] == [bet.pk]
        assert "43.21" in seen["feed api"]  # exact mode


def settle_with_second_approver(bet, staff) -> None:
    """A win of 987.65 pays above the staff-grant threshold: a colleague approves it."""
    bet_settle(bet_id=bet.pk, result="win", staff=staff, reason="test")
    waiting = manual_settlement_pending_id(bet_id=bet.pk)
    if waiting is not None:
        reviewer = UserFactory(is_staff=True, is_superuser=True)
        manual_settlement_approve(settlement_id=waiting, staff=reviewer)


def _place_settle(stake_mode: str):
    staff = UserFactory(is_staff=True, is_superuser=True)
    alice = bettor(handle=f"alice_{stake_mode}", delay=0, stake=stake_mode)
    bob = bettor(handle=f"bob_{stake_mode}")
    services.follow_create(follower=bob, handle=f"alice_{stake_mode}")
    bet = place_and_relay(alice, make_game(), stake=HIDDEN_STAKE)
    settle_with_second_approver(bet, staff)
    relay_outbox()
    return alice, bob, bet


@pytest.mark.django_db
@pytest.mark.parametrize("stake_mode", ["hidden", "rounded", "exact"])
def test_each_stake_mode_on_pages_and_api(stake_mode):
    _alice, bob, bet = _place_settle(stake_mode)
    page, api = clients_for(bob)
    seen = surfaces(f"alice_{stake_mode}", page, api)
    feed = json.loads(seen["feed api"])["results"]
    assert [item["bet_id"] for item in feed] == [bet.pk]
    stake = feed[0]["stake"]
    assert feed[0]["result"] == "win" and feed[0]["profit_units"] == "1.2000"
    if stake_mode == "hidden":
        assert stake == {"visibility": "hidden", "display": "Hidden"}
        assert feed[0]["net_profit"] is None
    elif stake_mode == "rounded":
        assert stake == {
            "visibility": "rounded",
            "amount": "980.00",
            "upper": "990.00",
            "currency": "USD",
            "display": "980 to 990 USD",
        }
        assert feed[0]["net_profit"] is None
        assert all("980 to 990 USD" in seen[name] for name in ("profile page", "feed page"))
    else:
        assert stake["amount"] == "987.65" and feed[0]["net_profit"] == {
            "amount": "1185.18",
            "currency": "USD",
        }
        assert all(
            "987.65" in seen[name] for name in ("profile page", "feed page", "feed api", "profile bets api")
        )
    if stake_mode != "exact":
        for name, text in seen.items():
            for secret in STAKE_TEXTS + MONEY_TEXTS:
                assert secret not in text, (name, secret)


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("stake_mode", ["hidden", "rounded", "exact"])
async def test_each_stake_mode_over_the_websocket(stake_mode, ws_headers_for):
    from betthat.asgi import application

    alice = await sync_to_async(bettor)(handle=f"ws_alice_{stake_mode}", delay=0, stake=stake_mode)
    bob = await sync_to_async(bettor)(handle=f"ws_bob_{stake_mode}")
    await sync_to_async(services.follow_create)(follower=bob, handle=f"ws_alice_{stake_mode}")
    headers = await sync_to_async(ws_headers_for)(bob)
    socket = WebsocketCommunicator(application, "/ws/social/", headers=headers)
    connected, _ = await socket.connect(timeout=5)
    assert connected and (await socket.receive_json_from(timeout=5)) == {"type": "hello"}

    bet = await sync_to_async(place_and_relay)(alice, stake=HIDDEN_STAKE)  # no delay: released at once
    arrived = await socket.receive_from(timeout=10)
    staff = await sync_to_async(UserFactory)(is_staff=True, is_superuser=True)
    await sync_to_async(settle_with_second_approver)(bet, staff)
    await sync_to_async(relay_outbox)()
    updated = await socket.receive_from(timeout=10)
    await socket.disconnect()

    first, second = json.loads(arrived), json.loads(updated)
    assert (first["type"], first["item"]["bet_id"], first["item"]["status"]) == (
        "feed.item",
        bet.pk,
        "pending",
    )
    assert (second["type"], second["item"]["result"], second["item"]["profit_units"]) == (
        "feed.update",
        "win",
        "1.2000",
    )
    assert first["item"]["stake"]["visibility"] == stake_mode
    if stake_mode == "exact":
        assert first["item"]["stake"]["amount"] == "987.65"
        assert second["item"]["net_profit"]["amount"] == "1185.18"
    else:
        for frame in (arrived, updated):
            for secret in STAKE_TEXTS + MONEY_TEXTS:
                assert secret not in frame, secret


@pytest.mark.django_db(transaction=True)
async def test_a_delayed_bet_reaches_the_socket_only_when_released(ws_headers_for):
    from betthat.asgi import application
    from social.models import PublicBet

    alice = await sync_to_async(bettor)(handle="rel_alice", delay=600)
    bob = await sync_to_async(bettor)(handle="rel_bob")
    outsider = await sync_to_async(bettor)(handle="rel_outsider")
    await sync_to_async(services.follow_create)(follower=bob, handle="rel_alice")
    sockets = []
    for user in (bob, outsider):
        socket = WebsocketCommunicator(
            application, "/ws/social/", headers=await sync_to_async(ws_headers_for)(user)
        )
        assert (await socket.connect(timeout=5))[0]
        await socket.receive_json_from(timeout=5)
        sockets.append(socket)
    bet = await sync_to_async(place_and_relay)(alice)
    assert await sockets[0].receive_nothing(timeout=0.5)
    assert await sync_to_async(services.public_bets_release)() == 0  # not due yet
    public = await sync_to_async(PublicBet.objects.get)(bet_id=bet.pk)
    assert await sync_to_async(services.public_bets_release)(now=public.visible_from) == 1
    frame = await sockets[0].receive_json_from(timeout=10)
    assert frame["type"] == "feed.item" and frame["item"]["bet_id"] == bet.pk
    assert await sync_to_async(services.public_bets_release)(now=public.visible_from) == 0  # once
    assert await sockets[1].receive_nothing(timeout=0.5)  # not a follower
    # going private removes the bettor's items from open feeds
    await sync_to_async(services.profile_update)(user=alice, is_public=False)
    assert await sockets[0].receive_json_from(timeout=10) == {"type": "feed.remove", "handle": "rel_alice"}
    for socket in sockets:
        await socket.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_the_feed_socket_refuses_anonymous_users(ws_headers_for):
    from betthat.asgi import application

    socket = WebsocketCommunicator(application, "/ws/social/", headers=ws_headers_for(None))
    connected, _ = await socket.connect(timeout=5)
    assert not connected
