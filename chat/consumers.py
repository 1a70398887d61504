"""/ws/chat/<room>/: one room per socket.

Server -> client, every frame but "hello", "ack", "pong" and "error" numbered by the room's
`seq` (a client that sees a gap reloads history):
    {"type": "hello", "room": {...}, "seq": n, "messages": [...], "before": cursor|null,
     "presence": {"count": n, "users": [...]}, "can_write": bool, "write_refusal": {...}|null}
    {"type": "message", "seq": n, "message": {...}}
    {"type": "message.updated", "seq": n, "message": {...}}   reactions, hidden, deleted
    {"type": "presence", "seq": n, "count": n, "users": [{"id", "name"}]}
    {"type": "typing", "seq": n, "user": {"id", "name"}}
    {"type": "ack", "client_id": "...", "message": {...}}     your send was stored
    {"type": "error", "error": {"code", "message", "details"}, "client_id"?: "..."}
Client -> server:
    {"action": "send", "text": "...", "client_id": "...", "share": {"kind": "bet"|"edge", "ref": id}?}
    {"action": "react", "id": msg_id, "emoji": "👍"}      toggles
    {"action": "report", "id": msg_id, "reason": "..."}
    {"action": "delete", "id": msg_id}                      your own message
    {"action": "typing"}     {"action": "ping"}     {"action": "history", "before": cursor}
A bad frame gets an error frame; the socket stays open. Frames are capped in size
(CHAT_MAX_FRAME_BYTES) and rate (CHAT_SOCKET_FRAMES_PER_SEC, bursts of twice that).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.conf import settings

from betthat.core.errors import ApplicationError
from betthat.core.hub import HubMember, get_hub
from betthat.users.sockets import SessionBoundConsumerMixin
from chat import presence, realtime, selectors, services
from chat.models import Room
from chat.serializers import message_frames, presence_summary
from chat.writer import Stored, get_writer

logger = logging.getLogger(__name__)
HEARTBEAT_EVERY = 15.0
PRESENCE_EVERY = 0.3  # seconds a presence announcement waits to cover a burst of joins
_announcements: set[asyncio.Task[None]] = set()  # keeps the pending announcements alive
_acks: set[asyncio.Task[None]] = set()  # keeps the acks waiting on the writer alive
TYPING_EVERY = 3.0


class ChatConsumer(SessionBoundConsumerMixin, HubMember, AsyncJsonWebsocketConsumer):
    room: Room
    # frames of the room that arrive before the hello is sent, held back (see _hello)
    held: list[str] | None = None
    answering: asyncio.Task[None] | None = None  # the last send's answer (ack or refusal)

    async def connect(self) -> None:
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=4401)
            return
        slug = self.scope["url_route"]["kwargs"]["room"]
        room = await database_sync_to_async(Room.objects.filter(slug=slug).first)()
        if room is None:
            await self.close(code=4404)
            return
        self.room = room
        self.user = user
        self.group = realtime.room_group(room.pk)
        self.tokens = float(settings.CHAT_SOCKET_FRAMES_PER_SEC * 2)
        self.refilled = time.monotonic()
        self.last_beat = 0.0
        self.last_typing = 0.0
        self.held = []
        await get_hub().join(self.group, self)  # subscribed before the hello's snapshot is read
        await self.accept()
        await self._beat(force=True)
        hello = self._without_held(await database_sync_to_async(self._hello)())
        await self.send_json(hello)
        await self._release_held(hello)
        await self._announce_presence()

    async def disconnect(self, code: int) -> None:
        if not hasattr(self, "room"):
            return
        await get_hub().leave(self.group, self)
        await database_sync_to_async(presence.leave)(self.room.pk, self.user.pk, self.channel_name)
        await self._announce_presence()

    # --- frames in --------------------------------------------------------------------

    async def receive(
        self, text_data: str | None = None, bytes_data: bytes | None = None, **kwargs: Any
    ) -> None:
        if not self._take_token():
            await self._error(
                "rate_limited",
                f"Too many frames: at most {settings.CHAT_SOCKET_FRAMES_PER_SEC} a second.",
            )
            return
        if text_data is None:
            await self._error("validation_error", "Send JSON text frames.")
            return
        if len(text_data.encode()) > settings.CHAT_MAX_FRAME_BYTES:
            await self._error(
                "payload_too_large", f"Frames are at most {settings.CHAT_MAX_FRAME_BYTES} bytes."
            )
            return
        try:
            content = json.loads(text_data)
        except ValueError:
            await self._error("validation_error", "That frame is not JSON.")
            return
        await self.receive_json(content)

    async def receive_json(self, content: Any, **kwargs: Any) -> None:
        if not isinstance(content, dict):
            await self._error("validation_error", "Send a JSON object.")
            return
        await self._beat()
        action = content.get("action")
        handler = {
            "send": self._send_message,
            "react": self._react,
            "report": self._report,
            "delete": self._delete,
            "typing": self._typing,
            "ping": self._ping,
            "history": self._history,
        }.get(action if isinstance(action, str) else "")
        if handler is None:
            await self._error("validation_error", "Unknown action.", {"action": str(action)[:40]})
            return
        try:
            await handler(content)
        except ApplicationError as problem:
            body = {"code": problem.code, "message": problem.message, "details": problem.details}
            frame: dict[str, Any] = {"type": "error", "error": body}
            if isinstance(content.get("client_id"), str):
                frame["client_id"] = content["client_id"][:64]
            await self.send_json(frame)

    async def _send_message(self, content: dict[str, Any]) -> None:
        # checked and stored by the process's writer, in batches with the other sockets'
        # sends (chat/writer.py). The socket goes on to its next frame meanwhile; the ack
        # leaves once the message's batch has committed, and a socket's answers (acks and
        # refusals) leave in the order of its sends.
        attempt = services.SendAttempt(
            user=self.user, room=self.room, text=content.get("text"), client_id=content.get("client_id")
        )
        stored = get_writer().send(attempt, share=content.get("share"))
        previous = self.answering
        task = asyncio.ensure_future(self._ack(content.get("client_id"), stored, after=previous))
        self.answering = task
        _acks.add(task)
        task.add_done_callback(_acks.discard)

    async def _ack(
        self, client_id: Any, stored: asyncio.Future[Stored], *, after: asyncio.Task[None] | None
    ) -> None:
        if after is not None:
            await asyncio.wait([after])
        try:
            answer = await stored
        except ApplicationError as problem:
            body = {"code": problem.code, "message": problem.message, "details": problem.details}
            frame: dict[str, Any] = {"type": "error", "error": body}
            if isinstance(client_id, str):
                frame["client_id"] = client_id[:64]
            await self._answer(frame)
            return
        await self._answer({"type": "ack", "client_id": client_id, **answer.frame})

    async def _answer(self, frame: dict[str, Any]) -> None:
        try:
            await self.send_json(frame)
        except Exception as exc:  # the socket closed while its message was being stored
            logger.info("chat: an answer to a closed socket was dropped: %r", exc)

    def _message(self, content: dict[str, Any]) -> Any:
        message = services.message_get(msg_id=content.get("id"))
        if message.room_id != self.room.pk:
            raise ApplicationError("That message is in another room.", code="not_found", status=404)
        return message

    async def _react(self, content: dict[str, Any]) -> None:
        def run() -> None:
            services.message_react(user=self.user, message=self._message(content), emoji=content.get("emoji"))

        await database_sync_to_async(run)()

    async def _report(self, content: dict[str, Any]) -> None:
        def run() -> None:
            reason = content.get("reason", "")
            services.message_report(user=self.user, message=self._message(content), reason=reason)

        await database_sync_to_async(run)()
        await self.send_json({"type": "reported", "id": str(content.get("id"))})

    async def _delete(self, content: dict[str, Any]) -> None:
        def run() -> None:
            services.message_delete(user=self.user, message=self._message(content))

        await database_sync_to_async(run)()

    async def _typing(self, content: dict[str, Any]) -> None:
        now = time.monotonic()
        if now - self.last_typing < TYPING_EVERY:
            return
        self.last_typing = now
        try:
            await database_sync_to_async(services.typing_signal)(user=self.user, room=self.room)
        except ApplicationError:
            # refused by the write rules (muted, limit, ...): the room hears nothing, and the
            # typist is not told off for every keystroke; their send says why
            return

    async def _ping(self, content: dict[str, Any]) -> None:
        await self._beat(force=True)
        await self.send_json({"type": "pong", "server_time": time.time()})

    async def _history(self, content: dict[str, Any]) -> None:
        before = content.get("before")
        if not isinstance(before, str):
            raise ApplicationError("before is a cursor string.", code="validation_error")
        page = await database_sync_to_async(services.history_request)(
            user=self.user, room=self.room, before=before
        )
        await self.send_json(
            {
                "type": "history",
                "messages": await database_sync_to_async(message_frames)(page.messages, room=self.room),
                "before": page.before,
            }
        )

    # --- frames out --------------------------------------------------------------------

    async def hub_deliver(self, topic: str, frame: str) -> None:
        """The room's frames from the hub, as published (encoded once for every socket)."""
        if self.held is not None:
            self.held.append(frame)
            return
        await self.send(text_data=frame)

    def _without_held(self, hello: dict[str, Any]) -> dict[str, Any]:
        """A message stored between the hello's two reads (the number, then the history) is
        in its history and among the frames held back: it goes out once, as its frame."""
        held = [json.loads(text) for text in self.held or ()]
        coming = {
            f["message"]["id"] for f in held if f.get("type") == "message" and f.get("seq", 0) > hello["seq"]
        }
        if coming:
            hello = {**hello, "messages": [m for m in hello["messages"] if m["id"] not in coming]}
        return hello

    async def _release_held(self, hello: dict[str, Any]) -> None:
        """Send the frames held back while the hello was read, but those its number covers."""
        while self.held:  # frames arriving meanwhile join the end of the queue, in order
            text = self.held.pop(0)
            if json.loads(text).get("seq", 0) <= hello["seq"]:
                continue
            await self.send(text_data=text)
        self.held = None

    # --- helpers -----------------------------------------------------------------------

    def _take_token(self) -> bool:
        rate = settings.CHAT_SOCKET_FRAMES_PER_SEC
        now = time.monotonic()
        self.tokens = min(rate * 2.0, self.tokens + (now - self.refilled) * rate)
        self.refilled = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True

    async def _beat(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self.last_beat >= HEARTBEAT_EVERY:
            self.last_beat = now
            await database_sync_to_async(presence.heartbeat)(self.room.pk, self.user.pk, self.channel_name)

    async def _error(self, code: str, message: str, details: dict[str, Any] | None = None) -> None:
        await self.send_json(
            {"type": "error", "error": {"code": code, "message": message, "details": details or {}}}
        )

    def _presence(self) -> dict[str, Any]:
        return presence_summary(self.room.pk)

    async def _announce_presence(self) -> None:
        """Tell the room who is here, at most once per PRESENCE_EVERY: the first join or leave
        of a burst claims the announcement and sends the count as it stands a moment later,
        so 500 people arriving cost a few frames, not 500 x 500."""
        room_id = self.room.pk
        if not await database_sync_to_async(presence.claim_announcement)(room_id, PRESENCE_EVERY * 4):
            return

        def send() -> None:
            # release first: a join after this point claims its own announcement, and any
            # join before it is already in the summary (its heartbeat came before its claim)
            presence.release_announcement(room_id)
            realtime.send_now(room_id, "presence", presence_summary(room_id))

        async def later() -> None:
            await asyncio.sleep(PRESENCE_EVERY)
            await database_sync_to_async(send)()

        task = asyncio.ensure_future(later())
        _announcements.add(task)
        task.add_done_callback(_announcements.discard)

    def _hello(self) -> dict[str, Any]:
        # the number first, then the history: a frame numbered after this is either held
        # back for release or in the history (or both, and then sent once), never lost
        seq = realtime.current_seq(self.room.pk)
        page = selectors.history(room=self.room)
        refusal = None
        try:
            services.ensure_can_write(user=self.user, room=self.room)
        except ApplicationError as problem:
            refusal = {"code": problem.code, "message": problem.message, "details": problem.details}
        return {
            "type": "hello",
            "room": {"slug": self.room.slug, "title": self.room.title, "kind": self.room.kind},
            "seq": seq,
            "messages": message_frames(page.messages, room=self.room),
            "before": page.before,
            "presence": self._presence(),
            "can_write": refusal is None,
            "write_refusal": refusal,
        }
