"""The one realtime path across ASGI processes: two real uvicorn servers (the project's app and
websocket protocol, as scripts/run.py serves them) on the test database and Redis. A chat
message, a feed item and a notification reach the sockets of both processes, through each
process's hub (one subscription per process and topic), in order and once each."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import websockets
from django.conf import settings

from betthat.core import realtime
from betthat.websocket_protocol import UVICORN_WS
from chat import services as chat_services
from social.push import push_on_commit
from tests.conftest import session_cookie_for, wait_until
from tests.factories import UserFactory

BASE_DIR = Path(__file__).resolve().parent.parent.parent
pytestmark = pytest.mark.django_db(transaction=True)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _answers(port: int) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture
def two_servers(transactional_db):
    """Two uvicorn processes on the test database, each in a process group of its own."""
    from django.db import connection

    db = connection.settings_dict
    env = dict(
        os.environ,
        DATABASE_URL=f"postgres://{db['USER'] or 'postgres'}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        REDIS_URL=settings.REDIS_URL,
        CONN_MAX_AGE="0",
        LOG_LEVEL="WARNING",
        CHAT_RATE_MESSAGES="1000",  # twenty sends in a row: the path, not the limit
        HUB_SLOW_SOCKET_FRAMES="32",  # a stuck client is cut after fewer frames (less to send)
    )
    started: list[tuple[subprocess.Popen, int]] = []
    try:
        for _ in range(2):
            port = _free_port()
            proc = subprocess.Popen(
                [sys.executable, "-m", "uvicorn", "betthat.asgi:application", "--host", "127.0.0.1",
                 "--port", str(port), "--ws", UVICORN_WS, "--no-access-log", "--log-level", "warning"],
                cwd=BASE_DIR,
                env=env,
                start_new_session=True,
            )  # fmt: skip
            started.append((proc, port))
        for proc, port in started:
            wait_until(lambda p=proc, n=port: p.poll() is not None or _answers(n), timeout=60, what="uvicorn")
            assert proc.poll() is None, "uvicorn ended at start"
        yield [port for _, port in started]
    finally:
        for proc, _ in started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc, _ in started:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)


async def _socket(port: int, path: str, cookie: str):
    ws = await websockets.connect(
        f"ws://127.0.0.1:{port}{path}",
        additional_headers={"Cookie": f"{settings.SESSION_COOKIE_NAME}={cookie}"},
        origin=f"http://127.0.0.1:{port}",
    )
    hello = json.loads(await ws.recv())
    assert hello["type"] == "hello"
    return ws, hello


async def _frames(ws, kind: str, count: int, timeout: float = 20, refused: str = "") -> list[dict]:
    """The next `count` frames of type `kind` (others skipped; one of type `refused` fails)."""
    found: list[dict] = []

    async def read() -> None:
        while len(found) < count:
            frame = json.loads(await ws.recv())
            assert frame["type"] != refused, frame
            if frame["type"] == kind:
                found.append(frame)

    await asyncio.wait_for(read(), timeout=timeout)
    return found


async def _drain(ws, quiet: float = 0.5) -> list[dict]:
    """What arrives until nothing has for `quiet` seconds."""
    frames = []
    while True:
        try:
            frames.append(json.loads(await asyncio.wait_for(ws.recv(), timeout=quiet)))
        except TimeoutError:
            return frames


def test_chat_feed_and_notifications_reach_sockets_on_both_processes(two_servers):
    alice, bob = UserFactory(), UserFactory()
    chat_services.room_lobby()
    cookies = {alice.pk: session_cookie_for(alice), bob.pk: session_cookie_for(bob)}
    port_a, port_b = two_servers

    async def scenario() -> None:
        sockets = {}
        for name, port in (("a", port_a), ("b", port_b)):
            sockets[f"chat_{name}"], _ = await _socket(port, "/ws/chat/lobby/", cookies[bob.pk])
            sockets[f"feed_{name}"], _ = await _socket(port, "/ws/social/", cookies[bob.pk])
            sockets[f"notes_{name}"], _ = await _socket(port, "/ws/notifications/", cookies[bob.pk])
        sender, hello = await _socket(port_a, "/ws/chat/lobby/", cookies[alice.pk])
        first_seq = hello["seq"]

        # a chat message sent through process A's socket, twenty in a row
        for n in range(20):
            await sender.send(json.dumps({"action": "send", "text": f"line {n}", "client_id": f"two-{n}"}))
        acks = await _frames(sender, "ack", 20, refused="error")
        assert [a["client_id"] for a in acks] == [f"two-{n}" for n in range(20)]
        for name in ("a", "b"):
            seen = await _frames(sockets[f"chat_{name}"], "message", 20)
            assert [f["message"]["text"] for f in seen] == [f"line {n}" for n in range(20)], name
            assert [f["message"]["id"] for f in seen] == [a["message"]["id"] for a in acks], name
            numbers = [f["seq"] for f in seen]
            assert numbers == sorted(numbers) and len(set(numbers)) == 20 and numbers[0] > first_seq, name

        # a feed item and a notification published by another process (a worker, here the test)
        def publish() -> None:
            from django.db import transaction

            with transaction.atomic():
                push_on_commit([(bob.pk, {"type": "feed.item", "item": {"bet_id": 41}})])
                realtime.notify(bob.pk, {"kind": "bet.settled", "message": "Your bet won"})
            assert realtime.flush(timeout=10)

        await asyncio.to_thread(publish)
        for name in ("a", "b"):
            (item,) = await _frames(sockets[f"feed_{name}"], "feed.item", 1)
            assert item == {"type": "feed.item", "item": {"bet_id": 41}}, name
            (note,) = await _frames(sockets[f"notes_{name}"], "notification", 1)
            assert note == {
                "type": "notification",
                "payload": {"kind": "bet.settled", "message": "Your bet won"},
            }, name

        # each frame once: nothing more but presence is waiting on any socket
        for name, ws in sockets.items():
            extra = await _drain(ws)
            assert {f["type"] for f in extra} <= {"presence"}, (name, extra)
            await ws.close()
        await sender.close()

    asyncio.run(scenario())


def test_a_client_that_stops_reading_holds_up_no_other_socket_and_is_closed(two_servers):
    """Before: the hub waited for every socket of a batch before reading the next, so one
    client that stopped reading (a backgrounded phone) stalled every socket of the process
    until the server's ping timeout ended it. Now the others get everything at once, and the
    stuck one is closed with 1013 (try again later) once it falls HUB_SLOW_SOCKET_FRAMES (32
    on these servers) behind. 200 frames of 80 kB: more than the kernel's socket buffers hold."""
    bob = UserFactory()
    cookie = session_cookie_for(bob)
    port = two_servers[0]
    count = 200
    noise = os.urandom(40_000).hex()  # 80 kB a frame that permessage-deflate can't shrink much

    async def scenario() -> None:
        stuck, _ = await _socket(port, "/ws/notifications/", cookie)
        reader, _ = await _socket(port, "/ws/notifications/", cookie)
        stuck.transport.pause_reading()  # stops reading: the server's buffer for it fills

        def publish() -> None:
            for n in range(count):
                realtime.notify(bob.pk, {"kind": "bulk", "n": n, "message": noise})
            assert realtime.flush(timeout=30)

        await asyncio.to_thread(publish)
        seen = await _frames(reader, "notification", count, timeout=30)
        assert [f["payload"]["n"] for f in seen] == list(range(count))
        stuck.transport.resume_reading()
        got = []
        with pytest.raises(websockets.ConnectionClosed) as closed:
            while True:
                got.append(json.loads(await asyncio.wait_for(stuck.recv(), timeout=30)))
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1013
        numbers = [f["payload"]["n"] for f in got if f["type"] == "notification"]
        assert numbers == list(range(len(numbers))) and len(numbers) < count  # in order, then cut
        await reader.close()

    asyncio.run(scenario())
