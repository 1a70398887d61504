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

`groups_with_members`: which of many groups have a member, in one round trip. A `group_send`
costs two round trips to find a group empty, and a batch (an odds ingest tick names the
group of every event it touched) sends to hundreds of groups nobody is watching.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Iterable
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

    async def groups_with_members(self, groups: Iterable[str]) -> set[str]:
        """The groups among `groups` with at least one member that has not expired (what
        `group_send` would send to): one pipeline per Redis host, read only."""
        by_host: dict[int, list[str]] = defaultdict(list)
        for group in groups:
            assert self.require_valid_group_name(group), "Group name not valid"
            by_host[self.consistent_hash(group)].append(group)
        # group_send discards the members scored at or below this before it sends
        expired_at = int(time.time()) - self.group_expiry
        watched: set[str] = set()
        for index, names in by_host.items():
            pipe = self.connection(index).pipeline(transaction=False)
            for name in names:
                pipe.zcount(self._group_key(name), f"({expired_at}", "+inf")
            counts = await pipe.execute()
            watched.update(name for name, count in zip(names, counts, strict=True) if count)
        return watched
