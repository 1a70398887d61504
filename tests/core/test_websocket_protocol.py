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
    cache.entries.clear()
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
