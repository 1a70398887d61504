"""/ws/chat/<room>/ over the real Redis channel layer: two people in a room."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from betthat.asgi import application
from betthat.users.models import User
from chat import services
from chat.models import Message
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


async def _join(headers, slug="lobby"):
    ws = WebsocketCommunicator(application, f"/ws/chat/{slug}/", headers=headers)
    connected, _ = await ws.connect(timeout=5)
    assert connected
    hello = await ws.receive_json_from(timeout=5)
    assert hello["type"] == "hello"
    return ws, hello


async def _next(ws, kind, timeout=5, where=lambda frame: True):
    while True:
        frame = await ws.receive_json_from(timeout=timeout)
        if frame["type"] == kind and where(frame):
            return frame


@pytest.fixture
def people(ws_headers_for):
    def make(n=2, **fields):
        users = [UserFactory(**fields) for _ in range(n)]
        return users, [ws_headers_for(u) for u in users]

    return make


async def test_two_people_see_messages_reactions_and_presence(people):
    await sync_to_async(services.room_lobby)()
    (alice, bob), (ha, hb) = await sync_to_async(people)()
    wa, hello_a = await _join(ha)
    assert hello_a["presence"]["count"] == 1 and hello_a["can_write"] is True
    wb, hello_b = await _join(hb)
    assert hello_b["presence"]["count"] == 2
    assert {u["id"] for u in hello_b["presence"]["users"]} == {alice.pk, bob.pk}
    presence = await _next(wa, "presence", where=lambda f: f["count"] == 2)
    assert {u["id"] for u in presence["users"]} == {alice.pk, bob.pk}

    await wa.send_json_to({"action": "send", "text": "hi bob <b>&</b>", "client_id": "a1"})
    ack = await _next(wa, "ack")
    assert ack["client_id"] == "a1" and ack["message"]["text"] == "hi bob <b>&</b>"
    seen = await _next(wb, "message")
    assert seen["message"]["id"] == ack["message"]["id"] and seen["message"]["user"]["id"] == alice.pk
    first_seq = seen["seq"]

    await wb.send_json_to({"action": "react", "id": seen["message"]["id"], "emoji": "👍"})
    updated = await _next(wa, "message.updated")
    assert updated["message"]["reactions"] == {"👍": 1} and updated["seq"] > first_seq

    await wb.disconnect()
    left = await _next(wa, "presence", where=lambda f: f["count"] == 1)
    assert left["count"] == 1 and left["users"][0]["id"] == alice.pk
    await wa.disconnect()


async def test_a_retried_send_is_stored_once(people):
    await sync_to_async(services.room_lobby)()
    _, (ha,) = await sync_to_async(people)(1)
    ws, _ = await _join(ha)
    for _ in range(3):
        await ws.send_json_to({"action": "send", "text": "only once", "client_id": "retry-7"})
    acks = [await _next(ws, "ack") for _ in range(3)]
    assert len({a["message"]["id"] for a in acks}) == 1
    assert await sync_to_async(Message.objects.count)() == 1
    await ws.disconnect()


async def test_bad_frames_get_error_frames_and_the_socket_stays(people, settings):
    await sync_to_async(services.room_lobby)()
    _, (ha,) = await sync_to_async(people)(1)
    ws, _ = await _join(ha)
    bad = [
        "not json",
        json.dumps([1, 2]),
        json.dumps({"action": "explode"}),
        json.dumps({"action": "send", "text": 5}),
        json.dumps({"action": "react", "id": "nope", "emoji": "👍"}),
        json.dumps({"action": "send", "text": "x" * (settings.CHAT_MAX_FRAME_BYTES + 10)}),
        json.dumps({"action": "history", "before": "%%%"}),
    ]
    codes = []
    for frame in bad:
        await ws.send_to(text_data=frame)
        codes.append((await _next(ws, "error"))["error"]["code"])
    assert codes == [
        "validation_error",
        "validation_error",
        "validation_error",
        "validation_error",
        "not_found",
        "payload_too_large",
        "validation_error",
    ]
    await ws.send_json_to({"action": "ping"})
    assert (await _next(ws, "pong"))["type"] == "pong"  # still healthy
    await ws.disconnect()


async def test_a_flood_of_frames_is_capped(people, settings):
    settings.CHAT_SOCKET_FRAMES_PER_SEC = 2
    await sync_to_async(services.room_lobby)()
    _, (ha,) = await sync_to_async(people)(1)
    ws, _ = await _join(ha)
    for _ in range(10):
        await ws.send_json_to({"action": "ping"})
    frames = [await ws.receive_json_from(timeout=5) for _ in range(10)]
    kinds = [f["type"] if f["type"] != "error" else f["error"]["code"] for f in frames]
    assert kinds.count("pong") <= 5 and kinds.count("rate_limited") >= 5
    await ws.disconnect()


async def test_unverified_users_read_but_cannot_write(people):
    await sync_to_async(services.room_lobby)()
    _, (hs,) = await sync_to_async(people)(1, verification_level=User.VerificationLevel.NONE)
    ws, hello = await _join(hs)
    assert hello["can_write"] is False and hello["write_refusal"]["code"] == "verification_required"
    await ws.send_json_to({"action": "send", "text": "let me in", "client_id": "s1"})
    error = await _next(ws, "error")
    assert error["error"]["code"] == "verification_required" and error["client_id"] == "s1"
    assert await sync_to_async(Message.objects.count)() == 0
    await ws.disconnect()


async def test_suspended_users_are_not_let_in(people):
    await sync_to_async(services.room_lobby)()
    _, (hs,) = await sync_to_async(people)(1, status=User.Status.SUSPENDED)
    ws = WebsocketCommunicator(application, "/ws/chat/lobby/", headers=hs)
    connected, code = await ws.connect(timeout=5)
    assert not connected and code == 4401


async def test_a_user_suspended_after_connecting_is_refused(people):
    await sync_to_async(services.room_lobby)()
    (alice,), (ha,) = await sync_to_async(people)(1)
    ws, _ = await _join(ha)
    await sync_to_async(User.objects.filter(pk=alice.pk).update)(status=User.Status.SUSPENDED)
    await ws.send_json_to({"action": "send", "text": "still here?"})
    # Every frame re-checks the session first (betthat/users/sockets.py): the socket ends.
    while (frame := await ws.receive_output(timeout=5))["type"] != "websocket.close":
        pass
    assert frame["code"] == 4401
    assert not await sync_to_async(Message.objects.filter(user=alice).exists)()


async def test_anonymous_and_unknown_rooms_are_refused(ws_headers_for, people):
    ws = WebsocketCommunicator(application, "/ws/chat/lobby/", headers=ws_headers_for(None))
    connected, code = await ws.connect(timeout=5)
    assert not connected and code == 4401
    _, (ha,) = await sync_to_async(people)(1)
    ws = WebsocketCommunicator(application, "/ws/chat/no-such-room/", headers=ha)
    connected, code = await ws.connect(timeout=5)
    assert not connected and code == 4404


async def test_rate_limited_sends_get_a_clear_error_frame(people, settings):
    settings.CHAT_RATE_MESSAGES = 2
    await sync_to_async(services.room_lobby)()
    _, (ha,) = await sync_to_async(people)(1)
    ws, _ = await _join(ha)
    for i in range(3):
        await ws.send_json_to({"action": "send", "text": f"m{i}", "client_id": f"r{i}"})
    await _next(ws, "ack")
    await _next(ws, "ack")
    error = await _next(ws, "error")
    assert error["error"]["code"] == "rate_limited" and error["client_id"] == "r2"
    assert error["error"]["details"]["retry_after"] > 0
    await ws.disconnect()


async def test_a_message_stored_while_the_hello_is_read_arrives_once_and_in_sequence(people, monkeypatch):
    """Joining while others write: a message stored between the hello's reads is in the
    history or sent as a frame, not both (and never neither), and the numbers run on."""
    from betthat.core import realtime as core_realtime
    from chat import consumers

    await sync_to_async(services.room_lobby)()
    (alice, _bob), (_ha, hb) = await sync_to_async(people)()
    history = consumers.selectors.history
    posted = []

    def history_with_a_message_stored_meanwhile(**kwargs):
        if not posted:
            message, _ = services.message_post(user=alice, room=kwargs["room"], text="meanwhile")
            posted.append(str(message.msg_id))
            assert core_realtime.flush(timeout=5)
        return history(**kwargs)

    monkeypatch.setattr(consumers.selectors, "history", history_with_a_message_stored_meanwhile)
    ws, hello = await _join(hb)
    frames = []
    while not await ws.receive_nothing(timeout=1):
        frames.append(await ws.receive_json_from(timeout=5))
    monkeypatch.setattr(consumers.selectors, "history", history)
    in_hello = [m["id"] for m in hello["messages"]]
    as_frames = [f["message"]["id"] for f in frames if f["type"] == "message"]
    assert in_hello.count(posted[0]) + as_frames.count(posted[0]) == 1
    numbered = [f["seq"] for f in frames if "seq" in f]
    assert numbered == list(range(hello["seq"] + 1, hello["seq"] + 1 + len(numbered)))
    await ws.disconnect()
