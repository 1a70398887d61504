"""The per-process chat writer: messages checked one by one, stored in batches.

A socket's send is checked on its own (`services.message_prepare`: who may write, the text,
the rate limit), then handed to this process's writer and awaited. The writer stores what
has gathered as one batch (`services.messages_store`: one transaction, a few statements for
any number of messages, one commit to wait for) and, while that batch is being written, the
next sends gather for the following one. So a quiet room's message is written at once, on
its own, and a busy process writes a few hundred messages per commit instead of one.

The sender gets its ack only when its batch has committed (the awaited result carries the
stored message). A batch that fails is written again one message at a time, so one message
that cannot be stored fails alone.
"""

from __future__ import annotations

import asyncio
import logging
import weakref

from channels.db import database_sync_to_async

from betthat.core.errors import ApplicationError
from chat import services
from chat.models import Message

logger = logging.getLogger(__name__)

MAX_BATCH = 500

_Pending = tuple[services.PreparedMessage, "asyncio.Future[tuple[Message, bool]]"]


class MessageWriter:
    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.pending: list[_Pending] = []
        self.task: asyncio.Task[None] | None = None
        self.batches = 0  # batches written (tests and diagnostics)

    def submit(self, prepared: services.PreparedMessage) -> asyncio.Future[tuple[Message, bool]]:
        """Queue `prepared` with whatever else is waiting; the future gives (message,
        created) once its transaction has committed."""
        future: asyncio.Future[tuple[Message, bool]] = self.loop.create_future()
        if prepared.is_replay:
            future.set_result((prepared.message, False))
            return future
        self.pending.append((prepared, future))
        if self.task is None or self.task.done():
            self.task = self.loop.create_task(self._run())
        return future

    async def store(self, prepared: services.PreparedMessage) -> tuple[Message, bool]:
        return await self.submit(prepared)

    async def _run(self) -> None:
        # ends when nothing waits; the next store starts it again
        while self.pending:
            batch, self.pending = self.pending[:MAX_BATCH], self.pending[MAX_BATCH:]
            await self._write(batch)

    async def _write(self, batch: list[_Pending]) -> None:
        store = database_sync_to_async(services.messages_store, thread_sensitive=False)
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
