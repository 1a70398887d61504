"""The per-process chat writer: sends checked in batches, stored in batches.

A socket's send goes to this process's writer (`send`) and is answered through the future it
gets back. The writer works in two stages, each taking whatever has gathered while its
previous batch was under way, so a quiet room's message goes through at once, on its own,
and a busy process handles a few hundred sends per step:

1. **check**: `services.messages_prepare` for the batch, in one sync call: the same rules as
   a single send, each send with its own answer (its prepared message, the stored message
   of a replayed client id, or its refusal with the usual code), but one query for the
   users' standing, one for the mutes, one for the replayed client ids and one Redis round
   trip for the rate limits, whatever the batch's size.
2. **store**: `services.messages_store` for the prepared messages (one transaction, a few
   statements for any number of messages, one commit), and the ack frames, their authors'
   names read in one query.

One sync call per stage and batch also means one connection health check (Django's
CONN_HEALTH_CHECKS `SELECT 1`, run on the first query after `close_old_connections`) per
batch instead of one per send, and a connection that PostgreSQL dropped is still found and
replaced before the next batch uses it. While one batch is stored the next is checked.

The sender gets its ack only when its batch has committed. A store that fails is written
again one message at a time, so one message that cannot be stored fails alone; a check that
fails (the database or Redis away) answers each of its sends `server_error`, not retried one
by one, which would count their rate limits twice (the client sends again with the same
client id, stored once).
"""

from __future__ import annotations

import asyncio
import logging
import weakref
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async

from betthat.core.errors import ApplicationError
from betthat.users.selectors import user_public_names
from chat import cards, services
from chat.models import Message
from chat.serializers import message_frame

logger = logging.getLogger(__name__)

MAX_BATCH = 500


@dataclass(frozen=True)
class Stored:
    """A send's answer: the stored message, whether this send stored it (False: a replayed
    client id), and its frame (`message_frame`) for the ack."""

    message: Message
    created: bool
    frame: dict[str, Any]


@dataclass(frozen=True)
class _Send:
    attempt: services.SendAttempt
    share: Any  # the frame's "share", made a card in the check stage


_Checking = tuple[_Send, "asyncio.Future[Stored]"]
_Pending = tuple[services.PreparedMessage, "asyncio.Future[Stored]"]


class MessageWriter:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.unchecked: list[_Checking] = []
        self.pending: list[_Pending] = []
        self.checking: asyncio.Task[None] | None = None
        self.task: asyncio.Task[None] | None = None
        self.check_batches = 0  # batches checked (tests and diagnostics)
        self.batches = 0  # batches written

    def send(self, attempt: services.SendAttempt, *, share: Any = None) -> asyncio.Future[Stored]:
        """Check and store a socket's send with whatever else is waiting; the future gives its
        `Stored` once its transaction has committed, or raises its refusal."""
        future: asyncio.Future[Stored] = self.loop.create_future()
        self.unchecked.append((_Send(attempt, share), future))
        if self.checking is None or self.checking.done():
            self.checking = self.loop.create_task(self._check_all())
        return future

    def submit(self, prepared: services.PreparedMessage) -> asyncio.Future[Stored]:
        """Store a message already checked (`services.message_prepare`)."""
        future: asyncio.Future[Stored] = self.loop.create_future()
        self._queue(prepared, future)
        return future

    async def store(self, prepared: services.PreparedMessage) -> Stored:
        return await self.submit(prepared)

    def _queue(self, prepared: services.PreparedMessage, future: asyncio.Future[Stored]) -> None:
        self.pending.append((prepared, future))
        if self.task is None or self.task.done():
            self.task = self.loop.create_task(self._run())

    # --- check --------------------------------------------------------------------------

    async def _check_all(self) -> None:
        # ends when nothing waits; the next send starts it again
        while self.unchecked:
            batch, self.unchecked = self.unchecked[:MAX_BATCH], self.unchecked[MAX_BATCH:]
            await self._check(batch)

    async def _check(self, batch: list[_Checking]) -> None:
        check = database_sync_to_async(_checked, thread_sensitive=False)
        try:
            answers = await check([send for send, _ in batch])
        except Exception:
            logger.exception("chat: checking a batch of %d sends failed", len(batch))
            for _, future in batch:
                if not future.done():
                    future.set_exception(_failure())
            return
        self.check_batches += 1
        for (_, future), answer in zip(batch, answers, strict=True):
            if isinstance(answer, services.PreparedMessage):
                self._queue(answer, future)  # stored even if its sender went away meanwhile
            elif future.done():
                continue
            elif isinstance(answer, Stored):
                future.set_result(answer)
            else:
                future.set_exception(answer)

    # --- store --------------------------------------------------------------------------

    async def _run(self) -> None:
        while self.pending:
            batch, self.pending = self.pending[:MAX_BATCH], self.pending[MAX_BATCH:]
            await self._write(batch)

    async def _write(self, batch: list[_Pending]) -> None:
        store = database_sync_to_async(_stored, thread_sensitive=False)
        try:
            results = await store([prepared for prepared, _ in batch])
        except Exception:
            if len(batch) == 1:
                _, future = batch[0]
                if not future.done():
                    future.set_exception(_failure())
                logger.exception("chat: storing a message failed")
                return
            logger.exception("chat: a batch of %d failed; storing them one by one", len(batch))
            for item in batch:
                await self._write([item])
            return
        self.batches += 1
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():  # a sender that went away still had its message stored
                future.set_result(result)


def _checked(sends: list[_Send]) -> list[services.PreparedMessage | Stored | ApplicationError]:
    """The check stage's one sync call: each send's card, then `messages_prepare` for the
    sends whose card is fine; a replay comes back as its `Stored` answer."""
    answers: list[services.PreparedMessage | Stored | ApplicationError | None] = [None] * len(sends)
    attempts: list[tuple[int, services.SendAttempt]] = []
    for i, send in enumerate(sends):
        attempt = send.attempt
        if send.share is not None:
            try:
                attempt = _with_card(attempt, send.share)
            except ApplicationError as problem:
                answers[i] = problem
                continue
        attempts.append((i, attempt))
    prepared = services.messages_prepare([attempt for _, attempt in attempts])
    replays = [p.message for p in prepared if isinstance(p, services.PreparedMessage) and p.is_replay]
    names = user_public_names(user_ids=[m.user_id for m in replays])
    for (i, _), result in zip(attempts, prepared, strict=True):
        if isinstance(result, services.PreparedMessage) and result.is_replay:
            answers[i] = Stored(result.message, False, message_frame(result.message, names=names))
        else:
            answers[i] = result
    return [answer for answer in answers if answer is not None]


def _with_card(attempt: services.SendAttempt, share: Any) -> services.SendAttempt:
    if not isinstance(share, dict):
        raise ApplicationError("share is an object.", code="validation_error")
    card = cards.card_for(user=attempt.user, kind=share.get("kind"), ref=share.get("ref"))
    return services.SendAttempt(
        user=attempt.user, room=attempt.room, text=attempt.text, client_id=attempt.client_id, attachment=card
    )


def _stored(prepared: list[services.PreparedMessage]) -> list[Stored]:
    """The store stage's one sync call: the batch stored, and each message's ack frame."""
    results = services.messages_store(prepared)
    names = user_public_names(user_ids=[message.user_id for message, _ in results])
    return [Stored(message, created, message_frame(message, names=names)) for message, created in results]


def _failure() -> Exception:
    return ApplicationError(
        "That message could not be stored; send it again.", code="server_error", status=500
    )


_writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, MessageWriter] = weakref.WeakKeyDictionary()


def get_writer() -> MessageWriter:
    """The running event loop's writer (an ASGI process has one loop)."""
    loop = asyncio.get_running_loop()
    writer = _writers.get(loop)
    if writer is None:
        writer = _writers[loop] = MessageWriter(loop)
    return writer
