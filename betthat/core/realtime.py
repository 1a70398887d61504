"""Realtime fan-out: the one way anything pushes a live frame to open sockets.

    publish(topic, frame)                          # one frame to a topic's sockets, after commit
    publish_many([(topic, frame), ...],            # a batch: one hand-off, one Redis round trip
                 numbered=False, on_commit=True)   # numbered: each frame gets the topic's next seq
    notify(user, payload)                          # a user's /ws/notifications/ sockets
    notify_many({user_id: payload, ...})           # a batch of notifications

Topics: "user.<id>" (notifications), "chat.room.<id>", "social.feed.<id>", "odds.board",
"odds.event.<id>". A frame is JSON-encoded once and PUBLISHed once on the topic's Redis pub/sub
channel; each ASGI process's hub (betthat.core.hub: one subscription per process and topic)
hands the text to its own sockets of that topic, or renders it once per view when the topic's
sockets see different things (the board's filters).

Everything leaves only after the database transaction commits (nobody sees an event that
rolled back) and is best effort: the database is the truth, a client reconciles from a
snapshot. A batch goes to the process's sender: one daemon thread ("realtime-sender") that
publishes batches one after another, in commit order, each in one Redis pipeline, and never
blocks the caller (an ingest tick of a thousand quote updates, or a settlement batch of five
hundred bets, hands over one list and goes on).

A numbered frame carries `"seq": n`, the topic's next number, taken and published in one
Redis script: every socket in every process sees a topic's numbered frames in number order,
so a client that sees a gap knows it missed one; `sequence(topic)` is the number so far.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import queue
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from django.db import transaction

from betthat.core import redis as bt_redis
from betthat.core.hub import hub_channel

logger = logging.getLogger(__name__)

# (topic, the frame's JSON text, numbered)
Outgoing = tuple[str, str, bool]

# Take the topic's next number and publish each frame with it, in one atomic step: ARGV are
# JSON objects ("{...}"), each published as {"seq":n,...}. Returns the last number taken.
_NUMBERED_SCRIPT = """
local n = 0
for i = 1, #ARGV do
  n = redis.call('INCR', KEYS[1])
  redis.call('PUBLISH', KEYS[2], '{"seq":' .. n .. ',' .. string.sub(ARGV[i], 2))
end
return n
"""

__all__ = [
    "encode",
    "flush",
    "hub_channel",
    "notify",
    "notify_many",
    "publish",
    "publish_many",
    "publish_now",
    "sequence",
    "user_group",
]


def user_group(user_id: int) -> str:
    """The topic of a user's /ws/notifications/ sockets."""
    return f"user.{user_id}"


def _sequence_key(topic: str) -> str:
    return bt_redis.key("hub", "seq", topic)


def sequence(topic: str) -> int:
    """The number of the topic's last numbered frame (0 before the first)."""
    value = bt_redis.client().get(_sequence_key(topic))
    return int(value) if value else 0


def encode(frame: Any) -> str:
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


def _outgoing(messages: Iterable[tuple[str, Any]], numbered: bool) -> list[Outgoing]:
    out = []
    for topic, frame in messages:
        text = encode(frame)
        if numbered and not (text.startswith("{") and len(text) > 2):
            raise ValueError("a numbered frame is a non-empty JSON object")
        out.append((topic, text, numbered))
    return out


def _runs(batch: Sequence[Outgoing]) -> Iterable[tuple[str, bool, list[str]]]:
    """Consecutive frames of one topic and kind, so a numbered run is one script call."""
    run: list[str] = []
    current: tuple[str, bool] | None = None
    for topic, text, numbered in batch:
        if current != (topic, numbered) and run:
            assert current is not None
            yield current[0], current[1], run
            run = []
        current = (topic, numbered)
        run.append(text)
    if run and current is not None:
        yield current[0], current[1], run


def publish_now(batch: Sequence[Outgoing]) -> None:
    """Publish a batch at once, in order, in one pipeline (sync)."""
    if not batch:
        return
    pipe = bt_redis.client().pipeline(transaction=False)
    for topic, numbered, texts in _runs(batch):
        if numbered:
            pipe.eval(_NUMBERED_SCRIPT, 2, _sequence_key(topic), hub_channel(topic), *texts)
        else:
            for text in texts:
                pipe.publish(hub_channel(topic), text)
    pipe.execute()


class _Sender:
    """One daemon thread per process that publishes batches in the order they were handed
    over (commit order), so a caller never waits on Redis."""

    def __init__(self) -> None:
        self.queue: queue.SimpleQueue[tuple[list[Outgoing], threading.Event | None]] = queue.SimpleQueue()
        self.thread: threading.Thread | None = None
        self.pid = 0
        self.lock = threading.Lock()
        self.flushes_at_exit = False

    def _ensure(self) -> None:
        with self.lock:
            if self.thread is None or not self.thread.is_alive() or self.pid != os.getpid():
                if self.pid != os.getpid():
                    self.queue = queue.SimpleQueue()  # a forked child does not inherit the batches
                self.thread = threading.Thread(target=self._drain, name="realtime-sender", daemon=True)
                self.pid = os.getpid()
                self.thread.start()
                if not self.flushes_at_exit:  # a short-lived command's last batch still goes out
                    atexit.register(self.flush)
                    self.flushes_at_exit = True

    def _drain(self) -> None:
        while True:
            batch, delivered = self.queue.get()
            # what else is waiting goes in the same pipeline, still in order
            waiting: list[threading.Event] = [delivered] if delivered is not None else []
            while True:
                try:
                    more, done = self.queue.get_nowait()
                except queue.Empty:
                    break
                batch = batch + more
                if done is not None:
                    waiting.append(done)
            try:
                publish_now(batch)
            except Exception:  # realtime is best effort; the database is the truth
                logger.exception("realtime publish failed")
            finally:
                for done in waiting:
                    done.set()

    def send(self, batch: list[Outgoing]) -> None:
        if batch:
            self._ensure()
            self.queue.put((batch, None))

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every batch handed over so far is published (True), or `timeout`."""
        if self.thread is None or not self.thread.is_alive() or self.pid != os.getpid():
            return True
        done = threading.Event()
        self.queue.put(([], done))
        return done.wait(timeout)


_sender = _Sender()


def flush(timeout: float = 5.0) -> bool:
    """Wait until every batch this process handed to its sender so far is published."""
    return _sender.flush(timeout)


def publish_many(
    messages: Iterable[tuple[str, Any]], *, numbered: bool = False, on_commit: bool = True
) -> None:
    """Publish each (topic, frame) of a batch to the topic's sockets in every process, once
    the current transaction commits (at once with `on_commit=False`), in order. `numbered`:
    each frame gets `"seq"`, its topic's next number."""
    batch = _outgoing(messages, numbered)
    if not batch:
        return
    if on_commit:
        transaction.on_commit(lambda: _sender.send(batch))
    else:
        _sender.send(batch)


def publish(topic: str, frame: Any, *, numbered: bool = False, on_commit: bool = True) -> None:
    publish_many([(topic, frame)], numbered=numbered, on_commit=on_commit)


def notify_many(payloads: Mapping[int, dict[str, Any]]) -> None:
    """`notify` for many users at once (a settlement batch): one hand-off after commit."""
    publish_many(
        (user_group(user_id), {"type": "notification", "payload": payload})
        for user_id, payload in payloads.items()
    )


def notify(user: Any, payload: dict[str, Any]) -> None:
    """Push `payload` to every open /ws/notifications/ socket of `user` (on commit)."""
    user_id = user if isinstance(user, int) else user.pk
    notify_many({user_id: payload})
