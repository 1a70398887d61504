"""Per-user limits on every kind of chat write, in Redis.

One sliding window per user and kind (`message`, `reaction`, `report`, `typing`, `delete`,
`history`), kept in Redis, so a user with several sockets, on several ASGI processes, and
through the REST API draws on one budget. Messages use `CHAT_RATE_MESSAGES` per
`CHAT_RATE_WINDOW_SEC`; the other kinds `CHAT_WRITE_LIMITS[kind]` (count, seconds).
"""

from __future__ import annotations

import time
import uuid

import redis
from django.conf import settings

from betthat.core import redis as bt_redis

WRITE_KINDS = ("message", "reaction", "report", "typing", "delete", "history")

# Sliding window in one atomic step: drop entries older than the window; if `limit` remain,
# refuse (returning the oldest entry's time); else record this one. A refused attempt is
# not recorded, so a client that keeps retrying is let in as soon as the window allows.
_WINDOW_SCRIPT = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then
  return redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')[2]
end
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
redis.call('EXPIRE', KEYS[1], tonumber(ARGV[2]) + 1)
return ''
"""


def limit_for(kind: str) -> tuple[int, int]:
    """(count, window in seconds) of `kind`."""
    if kind == "message":
        return int(settings.CHAT_RATE_MESSAGES), int(settings.CHAT_RATE_WINDOW_SEC)
    count, seconds = settings.CHAT_WRITE_LIMITS[kind]
    return int(count), int(seconds)


def _key(user_id: int, kind: str) -> str:
    return bt_redis.key("chat", "rate", kind, str(user_id))


def hit(user_id: int, kind: str) -> float:
    """Count one `kind` write by the user: 0 if within the limit, else the seconds to wait."""
    return hit_many([(user_id, kind)])[0]


def hit_many(hits: list[tuple[int, str]]) -> list[float]:
    """`hit` for each (user id, kind) in order, in one Redis round trip: the window script
    once per hit in one pipeline, so two hits of one user count one after the other exactly
    as two calls of `hit` would (a batch of sends checked together, `chat.writer`)."""
    for _, kind in hits:
        if kind not in WRITE_KINDS:
            raise ValueError(f"unknown chat write kind {kind!r}")
    if not hits:
        return []
    r = bt_redis.client()
    pipe = r.pipeline(transaction=False)
    now = time.time()
    for user_id, kind in hits:
        limit, window = limit_for(kind)
        # a unique member: two writes in the same microsecond (two sockets, two threads) both count
        member = f"{now:.6f}:{uuid.uuid4().hex}"
        pipe.evalsha(_script_sha(r), 1, _key(user_id, kind), now, window, limit, member)
    try:
        replies = pipe.execute()
    except redis.exceptions.NoScriptError:  # a restarted or flushed Redis forgot the script
        _shas.clear()
        return hit_many(hits)
    waits = []
    for (_, kind), oldest in zip(hits, replies, strict=True):
        _, window = limit_for(kind)
        waits.append(0.0 if not oldest else max(0.1, round(float(oldest) + window - now, 1)))
    return waits


_shas: dict[int, str] = {}


def _script_sha(r: redis.Redis) -> str:
    """The window script's SHA, loaded once per client (an EVALSHA sends 40 bytes, not the
    script)."""
    sha = _shas.get(id(r))
    if sha is None:
        sha = _shas[id(r)] = r.script_load(_WINDOW_SCRIPT)
    return sha
