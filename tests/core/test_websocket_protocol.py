"""betthat.websocket_protocol: permessage-deflate compressed once per message, not per socket."""

from __future__ import annotations

import asyncio
import json
import threading
import zlib

import pytest
import uvicorn
import websockets

from betthat import websocket_protocol
from tests.conftest import wait_until

BOARD_FRAME = json.dumps(
    {
        "type": "deltas",
        "deltas": [{"type": "edge.updated", "version": i, "edge_id": f"e{i}"} for i in range(100)],
    },
    separators=(",", ":"),
)


async def _app(scope, receive, send):
    """Sends the same frame to every socket, then one of its own, then echoes what it gets."""
    assert scope["type"] == "websocket"
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    await send({"type": "websocket.send", "text": BOARD_FRAME})
    await send({"type": "websocket.send", "text": json.dumps({"own": scope["query_string"].decode() * 1000})})
    await send({"type": "websocket.send", "text": "hello"})
    while True:
        message = await receive()
        if message["type"] != "websocket.receive":
            return
        await send({"type": "websocket.send", "text": message["text"]})


@pytest.fixture
def server_url():
    server = uvicorn.Server(
        uvicorn.Config(
            _app,
            host="127.0.0.1",
            port=0,
            log_level="warning",
            lifespan="off",
            ws=websocket_protocol.UVICORN_WS,
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, timeout=20, what="uvicorn to start")
    yield f"ws://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}/"
    server.should_exit = True
    thread.join(timeout=10)


def test_same_message_compressed_once_for_every_socket(server_url):
    cache = websocket_protocol.compressed_messages
    cache.clear()
    compressed, reused = cache.compressed, cache.reused

    async def run() -> list[tuple[list, list[str]]]:
        seen = []
        for n in range(3):
            async with websockets.connect(f"{server_url}?{n}") as ws:
                received = [await ws.recv() for _ in range(3)]
                await ws.send("x" * 2000)
                received.append(await ws.recv())
                seen.append((ws.protocol.extensions, received))
        return seen

    seen = asyncio.run(run())
    for n, (extensions, received) in enumerate(seen):
        # negotiated: the server compresses each message on its own
        assert len(extensions) == 1
        assert extensions[0].name == "permessage-deflate"
        assert extensions[0].remote_no_context_takeover is True
        assert received == [BOARD_FRAME, json.dumps({"own": str(n) * 1000}), "hello", "x" * 2000]
    # the board frame once for three sockets; each socket's own message and the echo (the same
    # text from all three) once each; "hello" is below the size worth sharing
    assert cache.compressed - compressed == 1 + 3 + 1
    assert cache.reused - reused == 2 + 2


def test_client_without_compression_gets_plain_frames(server_url):
    async def run():
        async with websockets.connect(server_url, compression=None) as ws:
            return ws.protocol.extensions, await ws.recv()

    extensions, first = asyncio.run(run())
    assert extensions == []
    assert first == BOARD_FRAME


def test_shared_payload_is_a_standalone_deflate_stream():
    """What a socket gets is the message compressed on its own (no earlier message's window),
    so any client inflates it with a fresh decompressor."""
    cache = websocket_protocol._CompressedMessages()
    payload = cache.get((12, (("memLevel", 5),)), BOARD_FRAME.encode(), {"memLevel": 5})
    assert cache.get((12, (("memLevel", 5),)), BOARD_FRAME.encode(), {"memLevel": 5}) is payload
    assert (cache.compressed, cache.reused) == (1, 1)
    inflater = zlib.decompressobj(wbits=-12)
    assert inflater.decompress(payload + b"\x00\x00\xff\xff").decode() == BOARD_FRAME
    assert len(payload) < len(BOARD_FRAME) / 3


def test_cache_keeps_only_the_last_messages():
    cache = websocket_protocol._CompressedMessages()
    settings = (12, (("memLevel", 5),))
    for i in range(websocket_protocol.SHARED_ENTRIES + 5):
        cache.get(settings, f"message {i} ".encode() * 100, {"memLevel": 5})
    assert len(cache.entries) == websocket_protocol.SHARED_ENTRIES
    assert (settings, b"message 0 " * 100) not in cache.entries


def test_the_cache_is_bounded_by_bytes_too(monkeypatch):
    monkeypatch.setattr(websocket_protocol, "SHARED_MAX_TOTAL_BYTES", 50_000)
    cache = websocket_protocol._CompressedMessages()
    settings = (12, (("memLevel", 5),))
    for i in range(40):
        cache.get(settings, f"{i:04d}".encode() * 5_000, {"memLevel": 5})  # 20 KB each
    assert len(cache.entries) == 2  # 2 x 20 KB texts and their payloads fit, 3 do not
    assert cache.total_bytes == sum(len(data) + len(p) for (_, data), p in cache.entries.items())
    cache.clear()
    assert cache.entries == {} and cache.total_bytes == 0


@pytest.mark.django_db(transaction=True)
def test_a_chat_burst_is_compressed_once_for_every_socket_of_the_room(asgi_server):
    """A chat message frame (about 300 bytes) goes to every socket of its room through the
    hub; each is compressed once for all of them, a burst of them as well."""
    from django.conf import settings

    from chat import services
    from tests.conftest import session_cookie_for
    from tests.factories import UserFactory

    alice, bob = UserFactory(), UserFactory()
    services.room_lobby()
    cookies = {u.pk: f"{settings.SESSION_COOKIE_NAME}={session_cookie_for(u)}" for u in (alice, bob)}
    url = asgi_server.replace("http://", "ws://") + "/ws/chat/lobby/"
    cache = websocket_protocol.compressed_messages

    async def run() -> tuple[int, int, list[list[str]]]:
        async def join(user):
            ws = await websockets.connect(
                url, additional_headers={"Cookie": cookies[user.pk]}, origin=asgi_server
            )
            assert json.loads(await ws.recv())["type"] == "hello"
            return ws

        listeners = [await join(bob) for _ in range(4)]
        sender = await join(alice)
        compressed, reused = cache.compressed, cache.reused
        for n in range(5):
            await sender.send(json.dumps({"action": "send", "text": f"burst {n}", "client_id": f"b{n}"}))
        seen = []
        for ws in listeners:
            texts: list[str] = []
            while len(texts) < 5:
                frame = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
                if frame["type"] == "message":
                    texts.append(frame["message"]["text"])
            seen.append(texts)
        for ws in [*listeners, sender]:
            await ws.close()
        return cache.compressed - compressed, cache.reused - reused, seen

    compressed, reused, seen = asyncio.run(run())
    assert seen == [[f"burst {n}" for n in range(5)]] * 4
    # five sockets in the room get each of the five frames: compressed once, reused four times
    assert reused >= 5 * 4
    assert compressed < 5 * 5  # not once per frame and socket (acks and presence count too)


def test_a_sockets_frames_of_one_turn_leave_in_one_write(server_url):
    """The app sends the handshake's answer and three frames without pausing: they reach
    the client in order, whole, from fewer system calls than frames."""
    counts = websocket_protocol.write_counts
    asked, made = counts.asked, counts.made

    async def run() -> list[str]:
        async with websockets.connect(f"{server_url}?w") as ws:
            received = [await ws.recv() for _ in range(3)]
            await ws.send("echo me")
            received.append(await ws.recv())
            return received

    received = asyncio.run(run())
    assert received == [BOARD_FRAME, json.dumps({"own": "w" * 1000}), "hello", "echo me"]
    asked, made = counts.asked - asked, counts.made - made
    assert asked >= 5  # the 101 answer, three frames, the echo (and the close)
    assert made <= asked - 3  # the answer and the three frames: one write
