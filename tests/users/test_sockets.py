"""Issue 18 item 10: open websockets end with their session (betthat/users/sockets.py), over
the real Redis channel layer and the project's ASGI application."""

from __future__ import annotations

import asyncio
import time
from importlib import import_module

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.test import Client

from betthat.asgi import application
from betthat.routing import websocket_urlpatterns
from betthat.users import services
from betthat.users.models import User
from betthat.users.sockets import (
    SessionBoundConsumerMixin,
    SessionChecker,
    socket_session_check,
    socket_session_checks,
)
from chat import services as chat_services
from chat.models import Message
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

PATHS = ["/ws/odds/", "/ws/chat/lobby/", "/ws/social/", "/ws/notifications/"]


def signed_in_browser(user) -> tuple[Client, list[tuple[bytes, bytes]]]:
    """A logged-in test client and websocket headers carrying the same session."""
    browser = Client()
    browser.force_login(user)
    cookie = browser.cookies[django_settings.SESSION_COOKIE_NAME].value
    headers = [
        (b"origin", b"http://127.0.0.1:8000"),
        (b"host", b"127.0.0.1"),
        (b"cookie", f"{django_settings.SESSION_COOKIE_NAME}={cookie}".encode()),
    ]
    return browser, headers


async def open_socket(path: str, headers) -> WebsocketCommunicator:
    ws = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await ws.connect(timeout=5)
    assert connected, (path, code)
    return ws


async def closed_with(ws: WebsocketCommunicator, timeout: float = 10) -> int | None:
    """Read the socket's output until the server closes it; its close code."""
    deadline = time.monotonic() + timeout
    while True:
        message = await ws.receive_output(timeout=max(0.1, deadline - time.monotonic()))
        if message["type"] == "websocket.close":
            return message.get("code")


async def still_open(ws: WebsocketCommunicator, path: str) -> bool:
    """A ping is answered (the chat and odds sockets), or nothing closes it (feed, notifications)."""
    if path in ("/ws/odds/", "/ws/chat/lobby/"):
        await ws.send_json_to({"action": "ping"})
        while True:
            message = await ws.receive_output(timeout=5)
            if message["type"] == "websocket.close":
                return False
            if '"pong"' in message.get("text", ""):
                return True
    while not await ws.receive_nothing(timeout=0.3):  # read what it was sent (hello, ...)
        if (await ws.receive_output())["type"] == "websocket.close":
            return False
    return True


@pytest.fixture
async def lobby():
    await sync_to_async(chat_services.room_lobby)()


async def test_logging_out_closes_every_socket_of_that_session_only(lobby):
    user = await sync_to_async(UserFactory)()
    browser, headers = await sync_to_async(signed_in_browser)(user)
    _, other_headers = await sync_to_async(signed_in_browser)(user)  # the same user on a phone
    sockets = [await open_socket(path, headers) for path in PATHS]
    others = [await open_socket(path, other_headers) for path in PATHS]
    response = await sync_to_async(browser.post)("/accounts/logout/")
    assert response.status_code == 302
    assert [await closed_with(ws) for ws in sockets] == [4401] * len(PATHS)
    assert [await still_open(ws, path) for ws, path in zip(others, PATHS, strict=True)] == [True] * len(PATHS)
    for ws in others:
        await ws.disconnect()


async def test_a_password_change_closes_the_sockets_of_the_other_sessions(lobby):
    user = await sync_to_async(UserFactory)()
    _, headers = await sync_to_async(signed_in_browser)(user)
    sockets = [await open_socket(path, headers) for path in PATHS]

    def change_password() -> None:
        fresh = User.objects.get(pk=user.pk)
        fresh.set_password("a-brand-new-password-77")
        fresh.save()

    await sync_to_async(change_password)()
    assert [await closed_with(ws) for ws in sockets] == [4401] * len(PATHS)
    # And the old session cannot open a new one.
    ws = WebsocketCommunicator(application, "/ws/odds/", headers=headers)
    assert await ws.connect(timeout=5) == (False, 4401)


@pytest.mark.parametrize("action", ["suspend", "soft_delete"])
async def test_suspension_and_deletion_close_the_users_sockets(lobby, action):
    user = await sync_to_async(UserFactory)()
    _, headers = await sync_to_async(signed_in_browser)(user)
    sockets = [await open_socket(path, headers) for path in PATHS]
    service = {"suspend": services.user_suspend, "soft_delete": services.user_soft_delete}[action]
    await sync_to_async(service)(user=user, reason="test")
    assert [await closed_with(ws) for ws in sockets] == [4401] * len(PATHS)


async def test_every_write_frame_rechecks_the_user_first(lobby):
    """A change no signal announces (a bulk UPDATE): the next frame is not handled."""
    user = await sync_to_async(UserFactory)()
    _, headers = await sync_to_async(signed_in_browser)(user)
    ws = await open_socket("/ws/chat/lobby/", headers)
    await sync_to_async(User.objects.filter(pk=user.pk).update)(status=User.Status.SUSPENDED)
    await ws.send_json_to({"action": "send", "text": "still here?", "client_id": "x"})
    assert await closed_with(ws) == 4401
    assert await sync_to_async(Message.objects.filter(user_id=user.pk).count)() == 0


def _set_last_activity(headers, seconds_ago: int) -> None:
    cookie = dict(headers)[b"cookie"].decode().split("=", 1)[1]
    store = import_module(django_settings.SESSION_ENGINE).SessionStore(cookie)
    store["last_activity"] = int(time.time()) - seconds_ago
    store.save()


async def test_a_write_frame_after_the_idle_timeout_closes_the_socket(lobby, settings):
    user = await sync_to_async(UserFactory)()
    _, headers = await sync_to_async(signed_in_browser)(user)
    ws = await open_socket("/ws/odds/", headers)
    await sync_to_async(_set_last_activity)(headers, 31 * 60)  # idle past the 30 minutes
    await ws.send_json_to({"action": "ping"})
    assert await closed_with(ws) == 4401


async def test_an_idle_session_closes_its_sockets_without_any_frame(lobby, settings):
    """No frame and no request: each socket's own watch finds the session idle and closes."""
    settings.SOCKET_SESSION_RECHECK_SECONDS = 1
    user = await sync_to_async(UserFactory)()
    _, headers = await sync_to_async(signed_in_browser)(user)
    sockets = [await open_socket(path, headers) for path in PATHS]
    await sync_to_async(_set_last_activity)(headers, 31 * 60)
    assert [await closed_with(ws, timeout=15) for ws in sockets] == [4401] * len(PATHS)


def test_the_watch_wakes_at_the_idle_deadline(settings):
    """Without frames, a socket checks again when its session would be signed out."""
    settings.SOCKET_SESSION_RECHECK_SECONDS = 3600
    user = UserFactory()
    _, headers = signed_in_browser(user)
    _set_last_activity(headers, 60)
    session_key = dict(headers)[b"cookie"].decode().split("=", 1)[1]
    checked = socket_session_check(session_key=session_key, user_id=user.pk)
    assert checked is not None
    idle_deadline = int(time.time()) - 60 + 30 * 60
    assert idle_deadline <= checked.recheck_at <= idle_deadline + 2
    assert socket_session_check(session_key=session_key, user_id=user.pk + 1) is None
    assert socket_session_check(session_key="no-such-session", user_id=user.pk) is None


async def test_a_socket_cannot_open_on_an_idle_or_suspended_session(lobby):
    user = await sync_to_async(UserFactory)()
    _, headers = await sync_to_async(signed_in_browser)(user)
    await sync_to_async(_set_last_activity)(headers, 31 * 60)
    for path in PATHS:
        ws = WebsocketCommunicator(application, path, headers=headers)
        assert await ws.connect(timeout=5) == (False, 4401), path


def test_every_consumer_is_bound_to_its_session():
    """A new consumer that forgets the mixin fails here."""
    consumers = [pattern.callback.consumer_class for pattern in websocket_urlpatterns]
    assert len(consumers) == 4
    assert all(issubclass(consumer, SessionBoundConsumerMixin) for consumer in consumers), consumers


def test_session_checks_of_many_sockets_are_two_queries(django_assert_num_queries):
    """The per-frame check, batched per event loop (SessionChecker): each socket its own
    answer, one query for the sessions and one for the users, whatever their number."""
    users = [UserFactory() for _ in range(3)]
    keys = [dict(signed_in_browser(u)[1])[b"cookie"].decode().split("=", 1)[1] for u in users]
    User.objects.filter(pk=users[2].pk).update(status=User.Status.SUSPENDED)
    identities = [
        (keys[0], users[0].pk),
        (keys[1], users[1].pk),
        (keys[1], users[0].pk),  # another user's session
        (keys[2], users[2].pk),  # suspended since
        ("no-such-session", users[0].pk),
        (None, users[0].pk),
    ]
    with django_assert_num_queries(2):
        answers = socket_session_checks(identities)
    assert [a is not None for a in answers] == [True, True, False, False, False, False]
    assert [a.user_id for a in answers[:2]] == [users[0].pk, users[1].pk]


async def test_frames_waiting_together_share_one_session_read(lobby):
    user = await sync_to_async(UserFactory)()
    _, headers = await sync_to_async(signed_in_browser)(user)
    session_key = dict(headers)[b"cookie"].decode().split("=", 1)[1]
    checker = SessionChecker(asyncio.get_running_loop())
    answers = await asyncio.gather(
        *(checker.check(session_key, user.pk) for _ in range(5)), checker.check(session_key, user.pk + 1)
    )
    assert checker.batches == 1
    assert [a is not None for a in answers] == [True] * 5 + [False]
