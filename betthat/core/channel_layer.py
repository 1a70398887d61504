"""The channel layer: channels_redis's, with a receive that always ends when cancelled.

Why a subclass: on Python 3.11 `asyncio.wait_for` loses a cancellation that arrives in the
same loop step as the awaitable it wraps finishes (fixed in 3.12, where `wait_for` is built
on `asyncio.timeout`). redis-py sends every command through `wait_for` when a socket timeout
is set, and ours is (reads must outlast channels_redis's 5 s BZPOPMIN, see settings). A
consumer stopped while its channel receive was connecting or sending then kept its receive
task alive: channels_redis loops on BZPOPMIN until a message arrives, so the task never
ended. In the test suite that hung the event loop's teardown (pytest-asyncio waits for every
cancelled task), about one full run in three; in a server it leaked a task and a Redis
connection per unlucky disconnect.

The fix honours the lost cancellation: a cancelled task still reports `cancelling() > 0`,
so after each empty BZPOPMIN block the receive raises `CancelledError` itself. A lost
cancellation now ends the receive within one block (`brpop_timeout`, 5 s) instead of never.
"""

from __future__ import annotations

import asyncio
from typing import Any

from channels_redis.core import RedisChannelLayer as _RedisChannelLayer


def cancellation_requested() -> bool:
    """True when the running task was asked to cancel (even if the request was lost)."""
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0


class RedisChannelLayer(_RedisChannelLayer):  # type: ignore[misc]  # channels_redis is untyped
    async def _brpop_with_clean(self, index: int, channel: str, timeout: float) -> Any:
        if cancellation_requested():
            raise asyncio.CancelledError
        member = await super()._brpop_with_clean(index, channel, timeout)
        if member is None and cancellation_requested():
            raise asyncio.CancelledError
        return member
