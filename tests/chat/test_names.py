"""Chat names people by their public handle or a stable anonymous label, never by anything
from their email or account name (issue 18 item 3), on every way out: socket frames (hello,
message, ack, typing, presence, history), the REST API and the room page.

On the old code every one of these carried `User.display_name`: the account name, or the
email's local part when the name was blank."""

from __future__ import annotations

import json
import re

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from betthat.asgi import application
from betthat.users.models import User
from betthat.users.selectors import user_anonymous_label, user_public_names
from chat import services
from social.models import Profile
from social.services import profile_update
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LABEL = re.compile(r"^Bettor [0-9A-F]{6}$")


def _private_person(local: str, name: str = "") -> User:
    """A user whose email's local part (and name) must never reach chat; profile private."""
    return UserFactory(email=f"{local}@example.com", name=name)


def _public_person(local: str, handle: str) -> User:
    user = UserFactory(email=f"{local}@example.com", name="Real Name Here")
    profile_update(user=user, handle=handle, is_public=True)
    return user


def _leaks(body: str, *secrets: str) -> list[str]:
    lowered = body.lower()
    return [s for s in secrets if s.lower() in lowered]


def test_public_names_are_handles_or_stable_keyed_labels(settings):
    private = _private_person("jane.secret.doe", name="Jane Doe")
    public = _public_person("sam.secret.roe", handle="sharp_sam")
    hidden = _public_person("hid.secret.den", handle="hidden_hal")
    Profile.objects.filter(user_id=hidden.pk).update(hidden_at="2026-01-01T00:00:00Z")
    suspended = _public_person("sus.secret.pend", handle="sus_sue")
    User.objects.filter(pk=suspended.pk).update(status=User.Status.SUSPENDED)

    names = user_public_names(user_ids=[private.pk, public.pk, hidden.pk, suspended.pk])
    assert names[public.pk] == "@sharp_sam"
    for who in (private, hidden, suspended):
        assert LABEL.match(names[who.pk]), names[who.pk]
        assert names[who.pk] == user_anonymous_label(user_id=who.pk)  # stable
    assert len({names[private.pk], names[hidden.pk], names[suspended.pk]}) == 3
    # keyed: the same id under another secret key gets another label
    before = user_anonymous_label(user_id=private.pk)
    settings.SECRET_KEY = "another-secret-key-for-this-test-only-0123456789"
    assert user_anonymous_label(user_id=private.pk) != before


def test_the_api_and_the_room_page_show_handles_and_labels_only(lobby, generous_limits, token_client_for):
    jane = _private_person("jane.secret.doe")  # no name: the old display name was "jane.secret.doe"
    sam = _public_person("sam.secret.roe", handle="sharp_sam")
    reader = UserFactory()
    message, _ = services.message_post(user=jane, room=lobby, text="over 45.5")
    services.message_post(user=sam, room=lobby, text="agreed")

    client = token_client_for(reader)
    history = client.get("/api/v1/chat/rooms/lobby/messages/")
    assert history.status_code == 200
    authors = [(m["user"]["id"], m["user"]["name"]) for m in history.json()["messages"]]
    assert authors == [(jane.pk, user_anonymous_label(user_id=jane.pk)), (sam.pk, "@sharp_sam")]
    reacted = client.post(
        f"/api/v1/chat/messages/{message.msg_id}/reactions/", {"emoji": "👍"}, format="json"
    )
    posted = token_client_for(jane).post(
        "/api/v1/chat/rooms/lobby/messages/", {"text": "again"}, format="json"
    )
    assert posted.status_code == 201 and LABEL.match(posted.json()["user"]["name"])
    assert reacted.json()["message"]["user"]["name"] == user_anonymous_label(user_id=jane.pk)

    page = Client()
    page.force_login(reader)
    html = page.get("/chat/lobby/").content.decode()
    assert user_anonymous_label(user_id=jane.pk) in html and "@sharp_sam" in html
    for body in (history.content.decode(), reacted.content.decode(), posted.content.decode(), html):
        assert _leaks(body, "jane.secret.doe", "sam.secret.roe", "Real Name Here") == []


@pytest.mark.django_db(transaction=True)
async def test_socket_frames_carry_no_email_derived_name(ws_headers_for, settings):
    settings.CHAT_RATE_MESSAGES = 1000
    await sync_to_async(services.room_lobby)()
    jane = await sync_to_async(_private_person)("jane.secret.doe")
    sam = await sync_to_async(_public_person)("sam.secret.roe", "sharp_sam")
    await sync_to_async(services.message_post)(
        user=jane, room=await sync_to_async(services.room_lobby)(), text="earlier"
    )

    seen: list[dict] = []

    async def join(user):
        ws = WebsocketCommunicator(
            application, "/ws/chat/lobby/", headers=await sync_to_async(ws_headers_for)(user)
        )
        assert (await ws.connect(timeout=5))[0]
        seen.append(await ws.receive_json_from(timeout=5))
        return ws

    async def until(ws, kind, where=lambda f: True):
        while True:
            frame = await ws.receive_json_from(timeout=5)
            seen.append(frame)
            if frame["type"] == kind and where(frame):
                return frame

    wj = await join(jane)
    ws = await join(sam)
    presence = await until(wj, "presence", where=lambda f: f["count"] == 2)
    jane_label = await sync_to_async(user_anonymous_label)(user_id=jane.pk)
    assert {(u["id"], u["name"]) for u in presence["users"]} == {
        (jane.pk, jane_label),
        (sam.pk, "@sharp_sam"),
    }
    await wj.send_json_to({"action": "send", "text": "hello", "client_id": "j1"})
    ack = await until(wj, "ack")
    message = await until(ws, "message")
    assert ack["message"]["user"]["name"] == message["message"]["user"]["name"] == jane_label
    await wj.send_json_to({"action": "typing"})
    typing = await until(ws, "typing")
    assert typing["user"] == {"id": jane.pk, "name": jane_label}
    hello = seen[0]
    before = hello["before"]
    assert hello["messages"][0]["user"]["name"] == jane_label
    if before:
        await ws.send_json_to({"action": "history", "before": before})
        await until(ws, "history")
    assert (
        _leaks(json.dumps(seen, ensure_ascii=False), "jane.secret.doe", "sam.secret.roe", "Real Name Here")
        == []
    )
    await wj.disconnect()
    await ws.disconnect()
