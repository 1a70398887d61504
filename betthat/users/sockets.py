"""A websocket lives only as long as the session that opened it: the one guard for every
consumer (odds, chat, social feed, notifications).

    class OddsConsumer(SessionBoundConsumerMixin, AsyncJsonWebsocketConsumer): ...

What the mixin does, around the consumer's own `connect` / `receive` (it never touches the
send paths):

- **On connect**, before the consumer's `connect`: the session must still be valid
  (`socket_session_check`: the session row exists and is not expired, names this user,
  carries the user's current password hash, is not past the idle timeout; the user is
  active, not suspended, not deleted). Otherwise the socket is closed with 4401. The socket
  joins two groups: its session's (`session_sockets_group`) and its user's
  (`user_sockets_group`).
- **On every frame the client sends** (every write: subscribe, chat send, react, typing,
  ...), the same check runs again first; a frame from a session that has ended is not
  handled and the socket is closed with 4401.
- **When the session ends**, the sockets are closed without waiting for a frame:
  - logout (`user_logged_out`): `socket.session.end` to the session's group closes them;
  - a saved user row (password change, suspension, soft delete, deactivation, through any
    path: services, admin, allauth): `socket.session.recheck` to the user's group, and each
    socket re-runs the check (a password change leaves the other sessions with a stale
    hash, so they fail it);
  - expiry and the idle timeout: each socket re-runs the check when its session's idle
    deadline passes (`SESSION_IDLE_TIMEOUT` after the last request that refreshed it) and at
    least every `SOCKET_SESSION_RECHECK_SECONDS` (expiry, a session deleted in the admin).

Socket frames do not count as activity for the idle timeout: only page and API requests
refresh it (writing the session from a socket would race the pages' own session writes, such
as a fresh re-authentication record). A socket therefore ends when its tab would be signed
out on its next request.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
import weakref
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare

from betthat.users.models import User

CLOSE_CODE = 4401
FRAMES_AHEAD = 32  # a socket's frames read ahead of the one being handled, at most
IDLE_KEY = "last_activity"  # betthat.users.middleware.SessionIdleTimeoutMiddleware.KEY


def session_sockets_group(session_key: str) -> str:
    """The channel-layer group of one session's sockets (a hash: the key is a credential)."""
    return "sockets.session." + hashlib.sha256(session_key.encode()).hexdigest()[:40]


def user_sockets_group(user_id: int) -> str:
    return f"sockets.user.{user_id}"


@dataclass(frozen=True)
class SocketSession:
    user_id: int
    session_key: str
    recheck_at: float  # time.time() at which the check must run again


def _hash_matches(session_hash: Any, user: User) -> bool:
    if not isinstance(session_hash, str) or not session_hash:
        return False
    if constant_time_compare(session_hash, user.get_session_auth_hash()):
        return True
    # Sessions signed with a key of SECRET_KEY_FALLBACKS stay valid, as in django.contrib.auth.
    return any(constant_time_compare(session_hash, h) for h in user.get_session_auth_fallback_hash())


def socket_session_check(*, session_key: str | None, user_id: int | None) -> SocketSession | None:
    """The session `session_key` of user `user_id` if it may still hold sockets, else None
    (see the module docstring for what is checked). Reads the session and the user row."""
    return socket_session_checks([(session_key, user_id)])[0]


def socket_session_checks(identities: list[tuple[str | None, int | None]]) -> list[SocketSession | None]:
    """`socket_session_check` for many sockets' (session key, user id) at once, each with its
    own answer: one query for the sessions (a database-backed session engine; another engine
    loads each session as before) and one for the users, whatever their number."""
    wanted = [(key, uid) for key, uid in identities if key and uid is not None]
    sessions = _sessions_data({key for key, _ in wanted if key})
    users = {u.pk: u for u in User.all_objects.filter(pk__in={uid for _, uid in wanted})} if wanted else {}
    now = time.time()
    return [
        _session_verdict(key, uid, sessions.get(key) or {}, users.get(uid), now=now)
        if key and uid is not None
        else None
        for key, uid in identities
    ]


def _sessions_data(keys: set[str]) -> dict[str, dict[str, Any]]:
    """Each live session's data ({} for a missing or expired one)."""
    if not keys:
        return {}
    engine = import_module(settings.SESSION_ENGINE).SessionStore
    if not issubclass(engine, DatabaseSessionStore):
        return {key: engine(key).load() for key in keys}
    rows = engine.get_model_class().objects.filter(session_key__in=keys, expire_date__gt=timezone.now())
    decoder = engine()
    return {row.session_key: decoder.decode(row.session_data) for row in rows}


def _session_verdict(
    session_key: str, user_id: int, data: dict[str, Any], user: User | None, *, now: float
) -> SocketSession | None:
    if str(data.get(SESSION_KEY, "")) != str(user_id):
        return None
    if user is None or not user.is_active or user.is_suspended or user.deleted_at is not None:
        return None
    if not _hash_matches(data.get(HASH_SESSION_KEY), user):
        return None
    recheck_at = now + settings.SOCKET_SESSION_RECHECK_SECONDS
    timeout = settings.SESSION_IDLE_TIMEOUT.total_seconds()
    last = data.get(IDLE_KEY)
    if isinstance(last, int) and timeout > 0:
        idle_deadline = last + timeout
        if now > idle_deadline:
            return None
        recheck_at = min(recheck_at, idle_deadline + 1)
    return SocketSession(user_id=user_id, session_key=session_key, recheck_at=recheck_at)


class SessionChecker:
    """One event loop's session checks, in batches: the checks asked for while a batch is
    being read go together in the next (one sync call, `socket_session_checks`), so a
    thousand sockets sending a frame each cost a few queries, not two round trips each on
    the consumers' one sync thread. Each frame still waits for a check that began after it
    arrived."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.waiting: dict[tuple[str | None, int | None], asyncio.Future[SocketSession | None]] = {}
        self.task: asyncio.Task[None] | None = None
        self.batches = 0  # batches read (tests and diagnostics)

    def check(self, session_key: str | None, user_id: int | None) -> asyncio.Future[SocketSession | None]:
        identity = (session_key, user_id)
        future = self.waiting.get(identity)  # the same session asked twice: one answer
        if future is None:
            future = self.waiting[identity] = self.loop.create_future()
        if self.task is None or self.task.done():
            self.task = self.loop.create_task(self._run())
        return future

    async def _run(self) -> None:
        read = database_sync_to_async(socket_session_checks, thread_sensitive=False)
        while self.waiting:
            batch, self.waiting = self.waiting, {}
            identities = list(batch)
            try:
                answers = await read(identities)
            except Exception as exc:
                for future in batch.values():
                    if not future.done():
                        future.set_exception(exc)
                continue
            self.batches += 1
            for identity, answer in zip(identities, answers, strict=True):
                if not batch[identity].done():
                    batch[identity].set_result(answer)


_checkers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, SessionChecker] = weakref.WeakKeyDictionary()


def get_session_checker() -> SessionChecker:
    """The running event loop's session checker."""
    loop = asyncio.get_running_loop()
    checker = _checkers.get(loop)
    if checker is None:
        checker = _checkers[loop] = SessionChecker(loop)
    return checker


def _scope_identity(scope: dict[str, Any]) -> tuple[str | None, int | None]:
    session = scope.get("session")
    user = scope.get("user")
    session_key = getattr(session, "session_key", None) if session is not None else None
    user_id = user.pk if user is not None and getattr(user, "is_authenticated", False) else None
    return session_key, user_id


logger = logging.getLogger(__name__)
_pending: set[asyncio.Task[None]] = set()  # control sends scheduled on a running loop


def _control_on_commit(group: str, message: dict[str, Any]) -> None:
    """A control message to the sockets in `group`, after the current transaction commits.
    Control messages (a session ended, a user to re-check) are rare and addressed to one
    session's or one user's sockets, so they travel on the channel layer that every consumer
    still joins, not on the realtime hub that carries the live data."""

    def send() -> None:
        layer = get_channel_layer()
        if layer is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        try:
            if loop is not None:  # called on an event loop (an async view or consumer)
                task = loop.create_task(layer.group_send(group, message))
                _pending.add(task)
                task.add_done_callback(_pending.discard)
            else:
                async_to_sync(layer.group_send)(group, message)
        except Exception:  # best effort: the per-frame check still refuses a dead session
            logger.exception("sockets: control message to %s failed", group)

    transaction.on_commit(send)


def sockets_end_for_session(session_key: str) -> None:
    """Close every socket of this session (4401), after the current transaction commits."""
    _control_on_commit(session_sockets_group(session_key), {"type": "socket.session.end"})


def sockets_recheck_for_user(user_id: int) -> None:
    """Make every socket of this user re-run `socket_session_check` (after commit)."""
    _control_on_commit(user_sockets_group(user_id), {"type": "socket.session.recheck"})


class SessionBoundConsumerMixin:
    """Put it first in a consumer's bases (see the module docstring)."""

    _socket_session: SocketSession | None = None
    _socket_groups: tuple[str, ...] = ()
    _socket_watch: asyncio.Task[None] | None = None
    _socket_ended = False
    _socket_last_frame: asyncio.Task[None] | None = None
    _socket_frames_ahead = 0

    scope: dict[str, Any]
    channel_layer: Any
    channel_name: str

    async def _socket_check(self) -> SocketSession | None:
        session_key, user_id = _scope_identity(self.scope)
        return await get_session_checker().check(session_key, user_id)

    async def _socket_end(self) -> None:
        if self._socket_ended:
            return
        self._socket_ended = True
        await self.close(code=CLOSE_CODE)  # type: ignore[attr-defined]

    async def websocket_connect(self, message: dict[str, Any]) -> None:
        checked = await self._socket_check()
        if checked is None:
            self._socket_ended = True
            await self.close(code=CLOSE_CODE)  # type: ignore[attr-defined]
            return
        self._socket_session = checked
        self._socket_groups = (
            session_sockets_group(checked.session_key),
            user_sockets_group(checked.user_id),
        )
        for group in self._socket_groups:
            await self.channel_layer.group_add(group, self.channel_name)
        await super().websocket_connect(message)  # type: ignore[misc]

    async def accept(self, *args: Any, **kwargs: Any) -> None:
        await super().accept(*args, **kwargs)  # type: ignore[misc]
        # Watched from acceptance only: a socket its consumer refused leaves no task behind.
        if self._socket_watch is None and not self._socket_ended:
            self._socket_watch = asyncio.create_task(self._socket_watch_session())

    async def websocket_receive(self, message: dict[str, Any]) -> None:
        # The frame's check is asked for now and the frame handled once it is answered, in a
        # task chained after the previous frame's: the consumer reads the socket's next frames
        # meanwhile, so frames that came together are checked together (one read) and each
        # is still handled, in order, only after a check that began once it had arrived. A
        # client that sends faster than that is held up to FRAMES_AHEAD frames ahead.
        if self._socket_ended:
            return
        session_key, user_id = _scope_identity(self.scope)
        checked = get_session_checker().check(session_key, user_id)
        task = asyncio.ensure_future(self._socket_frame(message, checked, after=self._socket_last_frame))
        self._socket_last_frame = task
        self._socket_frames_ahead += 1
        task.add_done_callback(self._socket_frame_done)
        if self._socket_frames_ahead > FRAMES_AHEAD:
            await asyncio.wait([task])

    def _socket_frame_done(self, task: asyncio.Task[None]) -> None:
        self._socket_frames_ahead -= 1

    async def _socket_frame(
        self,
        message: dict[str, Any],
        checked: asyncio.Future[SocketSession | None],
        *,
        after: asyncio.Task[None] | None,
    ) -> None:
        if after is not None:
            await asyncio.wait([after])
        try:
            session = await checked
            if self._socket_ended:
                return
            if session is None:
                await self._socket_end()
                return
            self._socket_session = session
            await super().websocket_receive(message)  # type: ignore[misc]
        except Exception:
            # handled inline, an error here ended the consumer and uvicorn closed the socket
            logger.exception("sockets: handling a frame failed")
            if not self._socket_ended:
                self._socket_ended = True
                with contextlib.suppress(Exception):
                    await self.close(code=1011)  # type: ignore[attr-defined]

    async def websocket_disconnect(self, message: dict[str, Any]) -> None:
        self._socket_ended = True
        if self._socket_watch is not None:
            self._socket_watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._socket_watch
        for group in self._socket_groups:
            await self.channel_layer.group_discard(group, self.channel_name)
        await super().websocket_disconnect(message)  # type: ignore[misc]

    async def _socket_watch_session(self) -> None:
        """Re-run the check when the session's idle deadline (or the recheck period) passes."""
        while not self._socket_ended and self._socket_session is not None:
            await asyncio.sleep(max(0.0, self._socket_session.recheck_at - time.time()))
            checked = await self._socket_check()
            if checked is None:
                await self._socket_end()
                return
            self._socket_session = checked

    async def socket_session_end(self, event: dict[str, Any]) -> None:
        await self._socket_end()

    async def socket_session_recheck(self, event: dict[str, Any]) -> None:
        if self._socket_ended:
            return
        checked = await self._socket_check()
        if checked is None:
            await self._socket_end()
        else:
            self._socket_session = checked
