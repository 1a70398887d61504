"""The per-process hub: how a live frame reaches this process's sockets.

Every live kind (chat rooms, the social feed, notifications, the odds board and the odds
events) leaves a service the same way (betthat.core.realtime: after commit, encoded once,
one Redis PUBLISH on the pub/sub channel of its topic) and reaches sockets the same way, here:

    await get_hub().join("chat.room.12", consumer)      # in connect / subscribe
    await get_hub().leave("chat.room.12", consumer)     # in disconnect / unsubscribe

Each ASGI process keeps one hub per event loop, with ONE Redis connection subscribed to every
topic that at least one of its sockets joined (SUBSCRIBE when the first socket joins, after
which `join` returns; UNSUBSCRIBE when the last one leaves). A message is read once, and its
text is handed as it is to every socket of the topic in this process: no decode, no per-socket
encode, and permessage-deflate compresses it once for all of them
(betthat/websocket_protocol.py). A topic whose sockets each see something different (the odds
board's filters) joins with a `render` function: it gets the text and the topic's sockets and
returns the frames and who gets each, so the work is done once per distinct view, not per socket.

Order: Redis delivers one connection's messages in publish order, and the hub sends each
socket its frames in that order. A socket waiting on a full buffer (a client that reads slowly
or not at all) holds up nothing else: its frames queue behind its waiting send while the hub
goes on with the next messages, and past HUB_SLOW_SOCKET_FRAMES queued it is closed with 1013
(try again later); the page reconnects and reconciles. Frames published with a number (`realtime.publish_many(..., numbered=True)`) carry
the topic's next `seq`, taken and published in one atomic step, so every process sees one
order. Delivery is best effort, like everything realtime: the database is the truth and a
client reconciles from a snapshot (see chat's hello).

The channel layer is not on this path any more: it still gives each consumer its channel for
the messages addressed to that one socket.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.conf import settings

from betthat.core import redis as bt_redis
from betthat.core.channel_layer import cancellation_requested

logger = logging.getLogger(__name__)

# A message read in one go with those already waiting, up to this many: their frames then go
# out to each socket in one delivery instead of one per message and socket.
DRAIN_AT_ONCE = 500
SUBSCRIBE_TIMEOUT = 10.0
# A socket whose send waits (its buffer is full: the client reads slowly or not at all) with
# more than settings.HUB_SLOW_SOCKET_FRAMES frames queued behind it is closed with this code
# (try again later) and gets nothing more; its page reconnects and reconciles.
SLOW_SOCKET_CLOSE_CODE = 1013


def hub_channel(topic: str) -> str:
    """The Redis pub/sub channel of `topic` (private to this checkout and test worker)."""
    return bt_redis.key("hub", topic)


class HubMember:
    """What the hub needs of a socket: a consumer mixin. A consumer may override
    `hub_deliver` (chat holds frames back until its hello is sent)."""

    async def hub_deliver(self, topic: str, frame: str) -> None:
        await self.send(text_data=frame)  # type: ignore[attr-defined]


Render = Callable[[str, Sequence[HubMember]], Iterable[tuple[str, Iterable[HubMember]]]]


class Hub:
    """One event loop's subscriptions and sockets (see the module's docstring)."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.members: dict[str, set[HubMember]] = {}
        self.renderers: dict[str, Render] = {}
        self.topics: dict[bytes, str] = {}  # channel -> topic
        self.confirmations: dict[str, asyncio.Future[None]] = {}
        self.unconfirmed: dict[str, int] = {}  # SUBSCRIBEs sent and not yet confirmed
        self.client: Any = None
        self.pubsub: Any = None
        self.task: asyncio.Task[None] | None = None
        self.lock = asyncio.Lock()
        self.delivered = 0  # frames handed to sockets (tests and diagnostics)
        # Sockets whose send waits, each with the frames queued behind it (in order), and the
        # tasks that finish them; sockets closed for being too slow.
        self.waiting: dict[HubMember, list[tuple[str, str]]] = {}
        self.catching_up: set[asyncio.Future[None]] = set()
        self.dropped: weakref.WeakSet[HubMember] = weakref.WeakSet()
        self.slow_socket_frames: int = settings.HUB_SLOW_SOCKET_FRAMES

    async def join(self, topic: str, member: HubMember, *, render: Render | None = None) -> None:
        """Add `member` to `topic`; returns once this process is subscribed to it, so every
        message published from then on reaches the socket."""
        if render is not None:
            self.renderers[topic] = render
        members = self.members.get(topic)
        if members:
            members.add(member)
            confirmation = self.confirmations.get(topic)
        else:
            self.members[topic] = {member}
            confirmation = self.confirmations[topic] = self.loop.create_future()
            channel = hub_channel(topic)
            # SUBSCRIBE and UNSUBSCRIBE go out one at a time, each decided under the lock: a
            # socket leaving a room as another joins it must not unsubscribe after the join
            async with self.lock:
                self.topics[channel.encode()] = topic
                pubsub = await self._listening()
                self.unconfirmed[topic] = self.unconfirmed.get(topic, 0) + 1
                await pubsub.subscribe(channel)
        if confirmation is not None and not confirmation.done():
            await asyncio.wait_for(asyncio.shield(confirmation), timeout=SUBSCRIBE_TIMEOUT)

    async def leave(self, topic: str, member: HubMember) -> None:
        members = self.members.get(topic)
        if members is None or member not in members:
            return
        members.discard(member)
        if members:
            return
        del self.members[topic]
        self.renderers.pop(topic, None)
        self.confirmations.pop(topic, None)
        if not self.members:
            # returns once the subscription has ended, as `join` returns once it has begun
            # (the listener closes its connection as it ends, bounded there)
            listener = self._stop()
            if listener is not None and listener is not asyncio.current_task():
                await asyncio.wait({listener})
            return
        async with self.lock:
            if topic in self.members or self.pubsub is None:  # joined again meanwhile
                return
            with contextlib.suppress(Exception):
                await self.pubsub.unsubscribe(hub_channel(topic))

    def sockets(self, topic: str) -> set[HubMember]:
        return set(self.members.get(topic, ()))

    async def _listening(self) -> Any:
        if self.pubsub is None or self.task is None or self.task.done():
            self.client = bt_redis.async_client()
            self.pubsub = self.client.pubsub(ignore_subscribe_messages=False)
            await self.pubsub.connect()
            self.unconfirmed.clear()
            self.task = self.loop.create_task(self._listen(self.client, self.pubsub))
        return self.pubsub

    def _stop(self) -> asyncio.Task[None] | None:
        """No socket left: end the subscription (a later join starts a new one); the
        listener's task, cancelled, if there was one."""
        listener = self.task
        if listener is not None:
            listener.cancel()
        self.task = self.pubsub = self.client = None
        self.topics.clear()
        self.unconfirmed.clear()
        return listener

    async def _listen(self, client: Any, pubsub: Any) -> None:
        try:
            while True:
                message = await pubsub.get_message(timeout=30)
                if cancellation_requested():  # lost by Python 3.11 (see core/channel_layer.py)
                    raise asyncio.CancelledError
                if message is None:
                    continue
                batch = [message]
                while len(batch) < DRAIN_AT_ONCE:
                    more = await pubsub.get_message(timeout=0)
                    if more is None:
                        break
                    batch.append(more)
                await self._dispatch(batch)
        finally:
            if self.task is asyncio.current_task():  # not a stopped one: a new join may be waiting
                for confirmation in self.confirmations.values():
                    if not confirmation.done():
                        confirmation.cancel()
            # Bounded: this runs while the task is cancelled (last socket gone, or the event
            # loop closing), and a close that never returns would hang that loop.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pubsub.aclose(), timeout=2)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(client.aclose(), timeout=2)

    def _confirmed(self, channel: bytes) -> None:
        topic = self.topics.get(channel)
        if topic is None:
            return
        left = self.unconfirmed.get(topic, 0) - 1
        self.unconfirmed[topic] = max(left, 0)
        confirmation = self.confirmations.get(topic)
        # an older SUBSCRIBE of the same topic (joined, left, joined) does not count for this one
        if left <= 0 and confirmation is not None and not confirmation.done():
            confirmation.set_result(None)

    async def _dispatch(self, messages: list[dict[str, Any]]) -> None:
        outgoing: dict[HubMember, list[tuple[str, str]]] = {}
        for message in messages:
            kind = message["type"]
            if kind == "subscribe":
                self._confirmed(message["channel"])
                continue
            if kind != "message":
                continue
            topic = self.topics.get(message["channel"])
            members = self.members.get(topic) if topic is not None else None
            if not members or topic is None:
                continue
            data = message["data"]
            text = data.decode() if isinstance(data, bytes) else str(data)
            render = self.renderers.get(topic)
            try:
                frames = [(text, members)] if render is None else list(render(text, list(members)))
            except Exception:  # a bad message must not end the process's live delivery
                logger.exception("hub: rendering %s failed", topic)
                continue
            for frame, targets in frames:
                for member in targets:
                    outgoing.setdefault(member, []).append((topic, frame))
        if not outgoing:
            return
        # Each socket its frames in order, and no socket waits for another. A send to a
        # writable socket completes without suspending, so each socket's delivery runs here
        # until it first waits (a task per socket was 8% of the server's GIL time under
        # bench/chat). One that waits (its buffer is full) is finished by a task of its own,
        # and the frames of later batches queue behind it; the next batch is read at once, so
        # a client that stops reading never holds up the process's other sockets.
        for member, queued in outgoing.items():
            if member in self.dropped:
                continue
            self.delivered += len(queued)
            backlog = self.waiting.get(member)
            if backlog is not None:
                backlog.extend(queued)
                if len(backlog) > self.slow_socket_frames:
                    self._drop(member)
                continue
            rest = _start(_deliver(member, queued))
            if rest is not None:
                self.waiting[member] = []
                self._keep(self._catch_up(member, rest))

    def _keep(self, coro: Any) -> None:
        """Run `coro` as a task the hub holds on to until it ends."""
        task = asyncio.ensure_future(coro)
        self.catching_up.add(task)
        task.add_done_callback(self.catching_up.discard)

    async def _catch_up(self, member: HubMember, rest: _Resumed) -> None:
        """Finish `member`'s delivery that had to wait, then the frames queued behind it."""
        try:
            await _logged(rest)
            while backlog := self.waiting.get(member):
                self.waiting[member] = []
                await _logged(_deliver(member, backlog))
        finally:
            self.waiting.pop(member, None)

    def _drop(self, member: HubMember) -> None:
        """A socket too slow to keep up: nothing more for it, and closed (when its buffer lets
        the close through, or when the server's ping timeout ends it)."""
        logger.warning("hub: a socket fell %d frames behind; closing it", self.slow_socket_frames)
        self.dropped.add(member)
        self.waiting[member] = []
        close = getattr(member, "close", None)
        if close is not None:
            self._keep(_logged(close(code=SLOW_SOCKET_CLOSE_CODE)))


async def _deliver(member: HubMember, frames: list[tuple[str, str]]) -> None:
    for topic, frame in frames:
        await member.hub_deliver(topic, frame)


def _failed(error: Exception) -> None:
    logger.info("hub: a delivery failed: %r", error)  # a socket that went away meanwhile, mostly


async def _logged(awaitable: Any) -> None:
    try:
        await awaitable
    except Exception as error:
        _failed(error)


def _start(coro: Any) -> _Resumed | None:
    """Run `coro` in this task until it first suspends: None if it finished by then (its
    error, if any, logged), else the awaitable that carries it on from where it waits."""
    try:
        waits_on = coro.send(None)
    except StopIteration:
        return None
    except Exception as error:
        _failed(error)
        return None
    return _Resumed(coro, waits_on)


class _Resumed:
    """Awaiting this finishes a coroutine already run up to its first suspension: the awaiting
    task first waits on what the coroutine yielded there, then drives it as `await` would."""

    __slots__ = ("coro", "first")

    def __init__(self, coro: Any, first: Any) -> None:
        self.coro, self.first = coro, first

    def __await__(self) -> Any:
        coro, value = self.coro, self.first
        self.first = None
        while True:
            try:
                sent = yield value
            except GeneratorExit:
                coro.close()
                raise
            except BaseException as error:  # the task was cancelled: the coroutine decides
                try:
                    value = coro.throw(error)
                except StopIteration as stop:
                    return stop.value
            else:
                try:
                    value = coro.send(sent)
                except StopIteration as stop:
                    return stop.value


_hubs: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Hub] = weakref.WeakKeyDictionary()


def get_hub() -> Hub:
    """The running event loop's hub (an ASGI process has one loop, tests one per test)."""
    loop = asyncio.get_running_loop()
    hub = _hubs.get(loop)
    if hub is None:
        hub = _hubs[loop] = Hub(loop)
    return hub
