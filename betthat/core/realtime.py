"""Realtime fan-out: the one way a service pushes something to open sockets.

    broadcast(group, event)                        # one channel-layer group, after commit
    notify(user, payload)                          # a user's /ws/notifications/ sockets
    broadcast_many([(group, event), ...],          # a batch: one hand-off for all of them
                   hubs=[(name, payload), ...])    # + per-process hubs (Redis pub/sub)
    notify_many({user_id: payload, ...})           # a batch of notifications

Everything leaves only after the database transaction commits (nobody sees an event that
rolled back) and is best effort: the database is the truth, a client reconciles from a
snapshot. A batch goes to the process's sender: one event loop on a daemon thread that
keeps the channel layer's Redis connections open, delivers batches one after another in
commit order and never blocks the caller (an ingest tick of a thousand quote updates, or a
settlement batch of five hundred bets, hands over one list and goes on).

Groups are channel-layer groups: each member socket gets the event through its consumer's
handler named by the event's "type". Hubs are for fan-out to very many sockets of one kind
(the odds board): the payload is published once, JSON-encoded, on the Redis pub/sub channel
`hub_channel(name)`, and each ASGI process's hub (one subscription per process, see
edges/consumers.py's BoardHub) decodes it once and frames it for its own sockets.
"""

from __future__ import annotations

import asyncio
import atexit
import json
import logging
import os
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from betthat.core import redis as bt_redis

logger = logging.getLogger(__name__)

GroupMessage = tuple[str, dict[str, Any]]
HubMessage = tuple[str, Any]
_Batch = tuple[list[GroupMessage], list[HubMessage], threading.Event | None]


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def hub_channel(name: str) -> str:
    """The Redis pub/sub channel of hub `name` (private to this checkout and test worker)."""
    return bt_redis.key("hub", name)


def send_now(group: str, message: dict[str, Any]) -> None:
    """Send one message to a group right away, from sync code outside a transaction."""
    layer = get_channel_layer()
    if layer is None:
        return
    try:
        async_to_sync(layer.group_send)(group, message)
    except Exception:  # realtime is best effort; the database is the truth
        logger.exception("broadcast to %s failed", group)


class _Sender:
    """One long-lived event loop thread per process for realtime sends from sync code."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.queue: asyncio.Queue[_Batch] | None = None
        self.task: asyncio.Task[None] | None = None
        self.thread: threading.Thread | None = None
        self.pid = 0
        self.lock = threading.Lock()
        self.flushes_at_exit = False

    def _ensure(self) -> tuple[asyncio.AbstractEventLoop, asyncio.Queue[_Batch]]:
        with self.lock:
            if (
                self.loop is None
                or self.queue is None
                or self.thread is None
                or not self.thread.is_alive()
                or self.pid != os.getpid()
            ):
                loop = asyncio.new_event_loop()
                queue: asyncio.Queue[_Batch] = asyncio.Queue()
                self.task = loop.create_task(self._drain(queue))
                self.thread = threading.Thread(target=loop.run_forever, name="realtime-sender", daemon=True)
                self.loop, self.queue, self.pid = loop, queue, os.getpid()
                self.thread.start()
                if not self.flushes_at_exit:  # a short-lived command's last batch still goes out
                    atexit.register(self.flush)
                    self.flushes_at_exit = True
            return self.loop, self.queue

    async def _drain(self, queue: asyncio.Queue[_Batch]) -> None:
        """Batches go out one after another, in commit order, without blocking the caller."""
        while True:
            groups, hubs, delivered = await queue.get()
            try:
                await _deliver(groups, hubs)
            except Exception:  # realtime is best effort; the database is the truth
                logger.exception("realtime fan-out failed")
            finally:
                if delivered is not None:
                    delivered.set()

    def send(self, groups: list[GroupMessage], hubs: list[HubMessage]) -> None:
        if groups or hubs:
            loop, queue = self._ensure()
            loop.call_soon_threadsafe(queue.put_nowait, (groups, hubs, None))

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every batch handed over so far is delivered (True), or `timeout`."""
        loop, queue, thread = self.loop, self.queue, self.thread
        if (
            loop is None
            or queue is None
            or thread is None
            or not thread.is_alive()
            or self.pid != os.getpid()
        ):
            return True
        done = threading.Event()
        loop.call_soon_threadsafe(queue.put_nowait, ([], [], done))
        return done.wait(timeout)


async def _deliver(groups: Sequence[GroupMessage], hubs: Sequence[HubMessage]) -> None:
    for name, payload in hubs:
        data = json.dumps(payload, separators=(",", ":"))
        await asyncio.to_thread(bt_redis.client().publish, hub_channel(name), data)
    layer = get_channel_layer()
    if layer is None or not groups:
        return
    by_group: dict[str, list[dict[str, Any]]] = {}
    for group, message in groups:
        by_group.setdefault(group, []).append(message)
    if len(by_group) > 1 and hasattr(layer, "groups_with_members"):
        # only the groups someone is in: most of a batch's groups (an odds tick's events)
        # have nobody watching, and finding that out costs `group_send` two round trips each
        watched = await layer.groups_with_members(by_group)
        by_group = {group: messages for group, messages in by_group.items() if group in watched}

    async def send_in_order(group: str, messages: list[dict[str, Any]]) -> None:
        for message in messages:
            await layer.group_send(group, message)

    # Groups concurrently (a settlement batch notifies hundreds of users), each group's
    # messages in the order they were given.
    results = await asyncio.gather(
        *(send_in_order(group, messages) for group, messages in by_group.items()), return_exceptions=True
    )
    for group, result in zip(by_group, results, strict=True):
        if isinstance(result, BaseException):
            logger.error("broadcast to %s failed: %r", group, result)


_sender = _Sender()


def flush(timeout: float = 5.0) -> bool:
    """Wait until every batch this process handed to its sender so far is delivered."""
    return _sender.flush(timeout)


def broadcast_many(
    groups: Iterable[GroupMessage] = (), *, hubs: Iterable[HubMessage] = (), on_commit: bool = True
) -> None:
    """Send every (group, event) and publish every (hub, payload) of a batch, once the current
    transaction commits (at once with `on_commit=False`), through the process's sender.

    Each event must carry a "type" naming the consumer handler (e.g. "notify")."""
    group_list, hub_list = list(groups), list(hubs)
    if not group_list and not hub_list:
        return
    if on_commit:
        transaction.on_commit(lambda: _sender.send(group_list, hub_list))
    else:
        _sender.send(group_list, hub_list)


def broadcast(group: str, event: dict[str, Any]) -> None:
    """Send `event` to a channel-layer group once the current transaction commits."""
    broadcast_many([(group, event)])


def notify_many(payloads: Mapping[int, dict[str, Any]]) -> None:
    """`notify` for many users at once (a settlement batch): one hand-off after commit."""
    broadcast_many(
        (user_group(user_id), {"type": "notify", "payload": payload}) for user_id, payload in payloads.items()
    )


def notify(user: Any, payload: dict[str, Any]) -> None:
    """Push `payload` to every open /ws/notifications/ socket of `user` (on commit)."""
    user_id = user if isinstance(user, int) else user.pk
    notify_many({user_id: payload})
