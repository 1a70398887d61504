"""One rule set for every chat write (issue 18 item 4): reactions, reports, typing, deletes
and history requests pass `services.chat_write_check` like messages do, with per-user limits
in Redis that hold across a user's sockets and the REST API.

On the old code reactions, reports and typing ignored mutes, self-exclusion and closed rooms,
and none of them, nor history requests, had a per-user limit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.utils import timezone

from betthat.asgi import application
from betthat.core.errors import ApplicationError
from chat import services
from chat.models import Message, Mute, Reaction, Report, Room
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _refusal(call) -> ApplicationError:
    with pytest.raises(ApplicationError) as problem:
        call()
    return problem.value


def _state(message: Message) -> tuple:
    """Everything a refused reaction, report or delete must leave unchanged."""
    row = Message.objects.get(msg_id=message.msg_id)
    return (
        Reaction.objects.filter(msg_id=message.msg_id).count(),
        Report.objects.filter(msg_id=message.msg_id).count(),
        dict(row.reactions),
        dict(row.flags),
    )


WRITES = {
    "reaction": lambda user, room, message: services.message_react(user=user, message=message, emoji="🔥"),
    "report": lambda user, room, message: services.message_report(user=user, message=message, reason="spam"),
    "typing": lambda user, room, message: services.typing_signal(user=user, room=room),
}


@pytest.fixture
def posted(lobby, generous_limits):
    author = UserFactory()
    message, _ = services.message_post(user=author, room=lobby, text="the over is a lock")
    return services.message_get(msg_id=message.msg_id)


def _mute_here(user, room):
    Mute.objects.create(user=user, room=room, until=timezone.now() + timedelta(hours=1), reason="flood")


def _mute_everywhere(user, room):
    Mute.objects.create(user=user, room=None, until=timezone.now() + timedelta(hours=1))


def _self_exclude(user, room):
    type(user).objects.filter(pk=user.pk).update(self_excluded_until=timezone.now() + timedelta(days=7))
    user.refresh_from_db()


def _close_room(user, room):
    Room.objects.filter(pk=room.pk).update(closed_at=timezone.now() - timedelta(minutes=1))
    room.refresh_from_db()


def _unverify(user, room):
    type(user).objects.filter(pk=user.pk).update(verification_level=0)
    user.refresh_from_db()


def _suspend(user, room):
    type(user).objects.filter(pk=user.pk).update(status="suspended")
    user.refresh_from_db()


CONDITIONS = {
    "muted_here": (_mute_here, "muted"),
    "muted_everywhere": (_mute_everywhere, "muted"),
    "self_excluded": (_self_exclude, "self_excluded"),
    "room_closed": (_close_room, "room_closed"),
    "unverified": (_unverify, "verification_required"),
    "suspended": (_suspend, "account_suspended"),
}


@pytest.mark.parametrize("condition", sorted(CONDITIONS))
@pytest.mark.parametrize("kind", sorted(WRITES))
def test_every_speaking_write_follows_the_who_may_write_rules(lobby, posted, kind, condition):
    user = UserFactory()
    apply, code = CONDITIONS[condition]
    apply(user, lobby)
    message = services.message_get(msg_id=posted.msg_id)
    before = _state(message)
    problem = _refusal(lambda: WRITES[kind](user, message.room, message))
    assert problem.code == code
    assert _state(message) == before


def test_a_muted_or_self_excluded_user_may_still_delete_their_own_and_read_history(lobby, generous_limits):
    user = UserFactory()
    message, _ = services.message_post(user=user, room=lobby, text="regret this")
    _mute_everywhere(user, lobby)
    _self_exclude(user, lobby)
    _close_room(user, lobby)
    page = services.history_request(user=user, room=lobby)
    assert [m.msg_id for m in page.messages] == [message.msg_id]
    deleted = services.message_delete(user=user, message=services.message_get(msg_id=message.msg_id))
    assert deleted.flags == {"deleted": True}


@pytest.mark.parametrize("kind", ["delete", "history"])
def test_a_suspended_user_can_neither_delete_nor_page_history(lobby, generous_limits, kind):
    user = UserFactory()
    message, _ = services.message_post(user=user, room=lobby, text="mine")
    _suspend(user, lobby)
    calls = {
        "delete": lambda: services.message_delete(
            user=user, message=services.message_get(msg_id=message.msg_id)
        ),
        "history": lambda: services.history_request(user=user, room=lobby),
    }
    assert _refusal(calls[kind]).code == "account_suspended"
    assert Message.objects.get(msg_id=message.msg_id).flags == {}


@pytest.mark.parametrize("kind", ["reaction", "report", "typing", "delete", "history"])
def test_each_kind_has_its_own_per_user_limit(lobby, generous_limits, settings, kind):
    settings.CHAT_WRITE_LIMITS = {**settings.CHAT_WRITE_LIMITS, kind: (2, 60)}
    user, other = UserFactory(), UserFactory()
    authors = [UserFactory() for _ in range(3)]
    targets = [services.message_post(user=a, room=lobby, text=f"m{i}")[0] for i, a in enumerate(authors)]
    own = [services.message_post(user=user, room=lobby, text=f"mine {i}")[0] for i in range(3)]

    def write(who, index):
        if kind == "reaction":
            return services.message_react(
                user=who, message=services.message_get(msg_id=targets[index].msg_id), emoji="👍"
            )
        if kind == "report":
            return services.message_report(
                user=who, message=services.message_get(msg_id=targets[index].msg_id)
            )
        if kind == "typing":
            return services.typing_signal(user=who, room=lobby)
        if kind == "delete":
            return services.message_delete(user=who, message=services.message_get(msg_id=own[index].msg_id))
        return services.history_request(user=who, room=lobby)

    write(user, 0)
    write(user, 1)
    problem = _refusal(lambda: write(user, 2))
    assert (problem.code, problem.status) == ("rate_limited", 429)
    assert problem.details["kind"] == kind and problem.details["limit"] == 2
    assert 0 < problem.details["retry_after"] <= 60
    if kind == "reaction":
        assert Reaction.objects.filter(user=user).count() == 2
    if kind == "report":
        assert Report.objects.filter(reporter=user).count() == 2
    if kind == "delete":
        assert [bool(Message.objects.get(msg_id=m.msg_id).flags) for m in own] == [True, True, False]
    # the limit is the user's, not the room's: someone else is not held back
    if kind != "delete":
        write(other, 2)


def test_the_message_limit_is_counted_in_redis_across_calls(lobby, settings):
    settings.CHAT_RATE_MESSAGES, settings.CHAT_RATE_WINDOW_SEC = 2, 60
    user = UserFactory()
    services.message_post(user=user, room=lobby, text="one")
    services.message_post(user=user, room=lobby, text="two")
    problem = _refusal(lambda: services.message_post(user=user, room=lobby, text="three"))
    assert (problem.code, problem.details["kind"]) == ("rate_limited", "message")
    assert Message.objects.filter(user=user).count() == 2


# --- over the real channel layer and the REST API -------------------------------------------


async def _join(headers, slug="lobby"):
    ws = WebsocketCommunicator(application, f"/ws/chat/{slug}/", headers=headers)
    connected, _ = await ws.connect(timeout=5)
    assert connected
    hello = await ws.receive_json_from(timeout=5)
    assert hello["type"] == "hello"
    return ws


async def _next(ws, kind, timeout=5, where=lambda frame: True):
    while True:
        frame = await ws.receive_json_from(timeout=timeout)
        if frame["type"] == kind and where(frame):
            return frame


async def _synced(ws):
    """Every frame this socket sent before has been handled (the consumer works in order)."""
    await ws.send_json_to({"action": "ping"})
    await _next(ws, "pong")


@pytest.mark.django_db(transaction=True)
async def test_the_reaction_limit_holds_across_two_sockets_of_one_user(ws_headers_for, settings):
    settings.CHAT_RATE_MESSAGES = 1000
    settings.CHAT_WRITE_LIMITS = {**settings.CHAT_WRITE_LIMITS, "reaction": (3, 60)}
    lobby = await sync_to_async(services.room_lobby)()
    author, fan = await sync_to_async(UserFactory)(), await sync_to_async(UserFactory)()
    messages = [
        (await sync_to_async(services.message_post)(user=author, room=lobby, text=f"pick {i}"))[0]
        for i in range(4)
    ]
    headers = await sync_to_async(ws_headers_for)(fan)
    first, second = await _join(headers), await _join(headers)
    for index, ws in enumerate([first, second, first]):
        await ws.send_json_to({"action": "react", "id": str(messages[index].msg_id), "emoji": "👍"})
        await _next(
            ws, "message.updated", where=lambda f, i=index: f["message"]["id"] == str(messages[i].msg_id)
        )
    await second.send_json_to({"action": "react", "id": str(messages[3].msg_id), "emoji": "👍"})
    error = await _next(second, "error")
    assert error["error"]["code"] == "rate_limited" and error["error"]["details"]["kind"] == "reaction"
    count = await sync_to_async(Reaction.objects.filter(user=fan).count)()
    assert count == 3
    await first.disconnect()
    await second.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_a_muted_user_cannot_react_report_or_type_over_the_socket(ws_headers_for, settings):
    settings.CHAT_RATE_MESSAGES = 1000
    lobby = await sync_to_async(services.room_lobby)()
    author, muted = await sync_to_async(UserFactory)(), await sync_to_async(UserFactory)()
    message, _ = await sync_to_async(services.message_post)(user=author, room=lobby, text="nice hedge")
    await sync_to_async(_mute_here)(muted, lobby)
    watcher = await _join(await sync_to_async(ws_headers_for)(author))
    ws = await _join(await sync_to_async(ws_headers_for)(muted))

    await ws.send_json_to({"action": "react", "id": str(message.msg_id), "emoji": "🔥"})
    assert (await _next(ws, "error"))["error"]["code"] == "muted"
    await ws.send_json_to({"action": "report", "id": str(message.msg_id), "reason": "x"})
    assert (await _next(ws, "error"))["error"]["code"] == "muted"
    await ws.send_json_to({"action": "typing"})
    await _synced(ws)
    # the author speaks next: the watcher's first typing or message frame is that message,
    # so no typing frame from the muted user went out before it
    await watcher.send_json_to({"action": "send", "text": "still here", "client_id": "w1"})
    frame = await watcher.receive_json_from(timeout=5)
    while frame["type"] not in ("typing", "message"):
        frame = await watcher.receive_json_from(timeout=5)
    assert frame["type"] == "message" and frame["message"]["text"] == "still here"
    assert await sync_to_async(Reaction.objects.count)() == 0
    assert await sync_to_async(Report.objects.count)() == 0
    await ws.disconnect()
    await watcher.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("change", ["self_excluded", "suspended"])
async def test_a_change_since_connecting_counts_on_the_next_reaction(ws_headers_for, settings, change):
    """The socket holds the user it connected with; the rule set re-reads their standing."""
    settings.CHAT_RATE_MESSAGES = 1000
    lobby = await sync_to_async(services.room_lobby)()
    author, fan = await sync_to_async(UserFactory)(), await sync_to_async(UserFactory)()
    message, _ = await sync_to_async(services.message_post)(user=author, room=lobby, text="lock of the day")
    ws = await _join(await sync_to_async(ws_headers_for)(fan))
    fresh = await sync_to_async(type(fan).objects.get)(pk=fan.pk)
    await sync_to_async(CONDITIONS[change][0])(fresh, lobby)
    await ws.send_json_to({"action": "react", "id": str(message.msg_id), "emoji": "🔥"})
    if change == "suspended":
        # a suspended account's sockets end with their session (betthat.users.sockets)
        assert await ws.receive_output(timeout=5) == {"type": "websocket.close", "code": 4401}
        assert await sync_to_async(Reaction.objects.count)() == 0
        return
    assert (await _next(ws, "error"))["error"]["code"] == CONDITIONS[change][1]
    assert await sync_to_async(Reaction.objects.count)() == 0
    await ws.disconnect()


@pytest.mark.django_db(transaction=True)
async def test_typing_is_heard_from_a_user_who_may_write(ws_headers_for, settings):
    lobby = await sync_to_async(services.room_lobby)()
    alice, bob = await sync_to_async(UserFactory)(), await sync_to_async(UserFactory)()
    wa = await _join(await sync_to_async(ws_headers_for)(alice))
    wb = await _join(await sync_to_async(ws_headers_for)(bob))
    await wa.send_json_to({"action": "typing"})
    frame = await _next(wb, "typing")
    assert frame["user"]["id"] == alice.pk and lobby.pk
    await wa.disconnect()
    await wb.disconnect()


def test_the_rest_api_and_the_limits_share_one_budget(lobby, generous_limits, settings, token_client_for):
    """Reactions through the API count against the same budget as the socket's (the
    service is the same), and the history API is limited like the socket's history."""
    settings.CHAT_WRITE_LIMITS = {**settings.CHAT_WRITE_LIMITS, "reaction": (2, 60), "history": (2, 60)}
    user = UserFactory()
    client = token_client_for(user)
    author = UserFactory()
    messages = [services.message_post(user=author, room=lobby, text=f"m{i}")[0] for i in range(3)]
    services.message_react(user=user, message=services.message_get(msg_id=messages[0].msg_id), emoji="👍")
    ok = client.post(f"/api/v1/chat/messages/{messages[1].msg_id}/reactions/", {"emoji": "👍"}, format="json")
    assert ok.status_code == 200 and ok.json()["reacted"] is True
    refused = client.post(
        f"/api/v1/chat/messages/{messages[2].msg_id}/reactions/", {"emoji": "👍"}, format="json"
    )
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert refused.json()["error"]["details"]["kind"] == "reaction"
    assert Reaction.objects.filter(user=user).count() == 2

    services.history_request(user=user, room=lobby)
    assert client.get("/api/v1/chat/rooms/lobby/messages/").status_code == 200
    page = client.get("/api/v1/chat/rooms/lobby/messages/")
    assert page.status_code == 429 and page.json()["error"]["code"] == "rate_limited"


def test_a_muted_user_is_refused_by_the_rest_api_too(lobby, posted, token_client_for):
    user = UserFactory()
    _mute_everywhere(user, lobby)
    client = token_client_for(user)
    reaction = client.post(
        f"/api/v1/chat/messages/{posted.msg_id}/reactions/", {"emoji": "🔥"}, format="json"
    )
    report = client.post(f"/api/v1/chat/messages/{posted.msg_id}/report/", {"reason": "x"}, format="json")
    assert (reaction.status_code, reaction.json()["error"]["code"]) == (403, "muted")
    assert (report.status_code, report.json()["error"]["code"]) == (403, "muted")
    assert _state(posted)[:2] == (0, 0)
