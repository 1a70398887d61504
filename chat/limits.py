"""Per-user limits on every kind of chat write, in Redis.

One sliding window per user and kind (`message`, `reaction`, `report`, `typing`, `delete`,
`history`), kept in Redis, so a user with several sockets, on several ASGI processes, and
through the REST API draws on one budget. Messages use `CHAT_RATE_MESSAGES` per
`CHAT_RATE_WINDOW_SEC`; the other kinds `CHAT_WRITE_LIMITS[kind]` (count, seconds).
"""

from __future__ import annotations

import time
import uuid

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
    if kind not in WRITE_KINDS:
        raise ValueError(f"unknown chat write kind {kind!r}")
    limit, window = limit_for(kind)
    now = time.time()
    # a unique member: two writes in the same microsecond (two sockets, two threads) both count
    oldest = bt_redis.client().eval(
        _WINDOW_SCRIPT, 1, _key(user_id, kind), now, window, limit, f"{now:.6f}:{uuid.uuid4().hex}"
    )
    if not oldest:
        return 0.0
    return max(0.1, round(float(oldest) + window - now, 1))
