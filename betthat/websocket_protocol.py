"""uvicorn's websocket protocol with per-message compression done once per message, not once
per socket.

Every live frame (a chat message, a board batch's frame per filter set, a notification) is
the same text for every socket of its topic in the process (betthat/core/hub.py). With uvicorn's permessage-deflate every socket keeps its own
compression context (context takeover), so that text was compressed again for each socket:
measured on the edges benchmark, 100 of the 170 µs of server CPU per frame and socket.

Here the server answers the client's offer with `server_no_context_takeover` (RFC 7692
§7.1.1.1: a server may add it to any offer it accepts; browsers and the websockets client
honour it), so each message is compressed on its own and its bytes depend only on its text
and the negotiated settings. The compressed payload of the last few messages is kept per
process, and a message sent again to another socket is looked up, not compressed. Messages
are somewhat larger on the wire (a board frame of 5.8 KB: 1.2 KB instead of 0.7 KB) for a
fraction of the CPU.

Run the server with `--ws betthat.websocket_protocol:WebSocketProtocol` (scripts/run.py,
README); `UVICORN_WS` is that value.
"""

from __future__ import annotations

import asyncio
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.extensions.base import Extension
from websockets.extensions.permessage_deflate import PerMessageDeflate, ServerPerMessageDeflateFactory
from websockets.frames import Frame, Opcode
from websockets.server import ServerProtocol
from websockets.typing import ExtensionParameter

UVICORN_WS = "betthat.websocket_protocol:WebSocketProtocol"
# uvicorn's own settings for permessage-deflate (websockets_sansio_impl), kept
WINDOW_BITS = 12
COMPRESS_SETTINGS = {"memLevel": 5}
# Only messages this long are kept: a "pong" is not worth the lookup, a chat message (about
# 300 B) is, since it goes to every socket of its room. The cache holds the last messages:
# the hub sends each socket all its frames of a batch before the next socket's, so a busy
# room's burst (tens of messages) must still be there for the room's next socket.
SHARED_MIN_BYTES = 128
SHARED_MAX_BYTES = 256 * 1024
SHARED_ENTRIES = 256
SHARED_MAX_TOTAL_BYTES = 8 * 1024 * 1024  # texts and payloads kept, at most
_SYNC_FLUSH_TAIL = b"\x00\x00\xff\xff"


class _CompressedMessages:
    """The compressed payload of the last SHARED_ENTRIES messages (SHARED_MAX_TOTAL_BYTES of
    texts and payloads at most), by settings and text."""

    def __init__(self) -> None:
        self.entries: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
        self.total_bytes = 0
        self.compressed = 0  # messages compressed (tests and diagnostics)
        self.reused = 0

    def clear(self) -> None:
        self.entries.clear()
        self.total_bytes = 0

    def get(self, settings: tuple[Any, ...], data: bytes, compress_settings: dict[str, Any]) -> bytes:
        key = (settings, data)
        payload = self.entries.get(key)
        if payload is not None:
            self.reused += 1
            return payload
        encoder = zlib.compressobj(wbits=-settings[0], **compress_settings)
        payload = encoder.compress(data) + encoder.flush(zlib.Z_SYNC_FLUSH)
        payload = payload[:-4] if payload.endswith(_SYNC_FLUSH_TAIL) else payload
        self.compressed += 1
        self.entries[key] = payload
        self.total_bytes += len(data) + len(payload)
        while len(self.entries) > SHARED_ENTRIES or (
            self.total_bytes > SHARED_MAX_TOTAL_BYTES and len(self.entries) > 1
        ):
            (_, old_data), old_payload = self.entries.popitem(last=False)
            self.total_bytes -= len(old_data) + len(old_payload)
        return payload


compressed_messages = _CompressedMessages()


class SharedPerMessageDeflate(PerMessageDeflate):
    """PerMessageDeflate whose whole messages (one frame, the only kind uvicorn sends) are
    compressed without context takeover and through the process's shared cache."""

    def encode(self, frame: Frame) -> Frame:
        if (
            not self.local_no_context_takeover
            or not frame.fin
            or frame.opcode not in (Opcode.TEXT, Opcode.BINARY)
            or not SHARED_MIN_BYTES <= len(frame.data) <= SHARED_MAX_BYTES
        ):
            return super().encode(frame)
        settings = (self.local_max_window_bits, tuple(sorted(self.compress_settings.items())))
        payload = compressed_messages.get(settings, bytes(frame.data), self.compress_settings)
        return Frame(frame.opcode, payload, frame.fin, True, frame.rsv2, frame.rsv3)


class SharedPerMessageDeflateFactory(ServerPerMessageDeflateFactory):
    def process_request_params(
        self, params: Sequence[ExtensionParameter], accepted_extensions: Sequence[Extension]
    ) -> tuple[list[ExtensionParameter], PerMessageDeflate]:
        response, extension = super().process_request_params(params, accepted_extensions)
        assert isinstance(extension, PerMessageDeflate)
        shared = SharedPerMessageDeflate(
            extension.remote_no_context_takeover,
            extension.local_no_context_takeover,
            extension.remote_max_window_bits,
            extension.local_max_window_bits,
            extension.compress_settings,
        )
        return response, shared


class _WriteCounts:
    """Writes asked of the sockets' transports and writes made (tests and diagnostics)."""

    def __init__(self) -> None:
        self.asked = 0
        self.made = 0


write_counts = _WriteCounts()


class _CoalescedWrites:
    """A socket's transport whose writes of one event-loop turn leave as one: the hub hands
    a socket all its frames of a batch in one turn (a busy room's messages, an ack), and
    each was one `send` system call. Measured on bench/chat, the calls were a third of the
    server's time under load. The bytes go out in order, at the end of the turn."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []

    def write(self, data: bytes) -> None:
        write_counts.asked += 1
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(data)

    def _flush(self) -> None:
        if not self._pending:
            return
        data = b"".join(self._pending)
        self._pending.clear()
        if not self._transport.is_closing():
            write_counts.made += 1
            self._transport.write(data)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending.clear()
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets-sansio protocol (its default), negotiating the shared compression
    above instead of its own permessage-deflate when --ws-per-message-deflate is on, and
    writing each turn's frames of a socket at once (`_CoalescedWrites`)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:  # type: ignore[override]
        super().connection_made(_CoalescedWrites(transport, self.loop))  # type: ignore[arg-type]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.config.ws_per_message_deflate:
            self.conn = ServerProtocol(
                extensions=[
                    SharedPerMessageDeflateFactory(
                        server_no_context_takeover=True,
                        server_max_window_bits=WINDOW_BITS,
                        client_max_window_bits=WINDOW_BITS,
                        compress_settings=dict(COMPRESS_SETTINGS),
                    )
                ],
                max_size=self.config.ws_max_size,
                logger=self.logger,
            )
