"""Who is in each room, and each room's slow mode, in Redis (shared by every ASGI process).

Presence is a sorted set per room: member "<user_id>:<connection>", score the time of its
last heartbeat. A socket refreshes its member on every frame and every 15 s; a member older
than CHAT_PRESENCE_TTL_SEC is gone, so a killed browser or ASGI process leaves within a minute
without anybody removing it. Counts and lists read only live members.
"""

from __future__ import annotations

import time

from django.conf import settings

from betthat.core import redis as bt_redis


def client():
    return bt_redis.client()


def _prefix() -> str:
    return bt_redis.key("chat")


def _room_key(room_id: int) -> str:
    return f"{_prefix()}:presence:{room_id}"


def _live_after() -> float:
    return time.time() - settings.CHAT_PRESENCE_TTL_SEC


def heartbeat(room_id: int, user_id: int, connection: str) -> None:
    key = _room_key(room_id)
    pipe = client().pipeline()
    pipe.zadd(key, {f"{user_id}:{connection}": time.time()})
    pipe.zremrangebyscore(key, "-inf", _live_after())
    pipe.expire(key, settings.CHAT_PRESENCE_TTL_SEC * 4)
    pipe.execute()


def leave(room_id: int, user_id: int, connection: str) -> None:
    client().zrem(_room_key(room_id), f"{user_id}:{connection}")


def user_ids(room_id: int) -> list[int]:
    """The distinct users with a live connection in the room."""
    members = client().zrangebyscore(_room_key(room_id), _live_after(), "+inf")
    return sorted({int(m.split(b":", 1)[0]) for m in members})


def counts(room_ids: list[int]) -> dict[int, int]:
    """Live users per room, in one round trip."""
    if not room_ids:
        return {}
    pipe = client().pipeline()
    floor = _live_after()
    for room_id in room_ids:
        pipe.zrangebyscore(_room_key(room_id), floor, "+inf")
    results = pipe.execute()
    return {
        room_id: len({m.split(b":", 1)[0] for m in members})
        for room_id, members in zip(room_ids, results, strict=True)
    }


def hit_slow_mode(room_id: int, user_id: int, seconds: int) -> float:
    """0 if the user may send in the room now (and start their wait), else seconds left."""
    if seconds <= 0:
        return 0.0
    key = f"{_prefix()}:slow:{room_id}:{user_id}"
    r = client()
    if r.set(key, "1", nx=True, ex=seconds):
        return 0.0
    return float(max(1, r.ttl(key)))


def claim_announcement(room_id: int, ttl_seconds: float) -> bool:
    """True for the one caller that will announce the room's presence next (the claim
    expires by itself should that caller die)."""
    return bool(client().set(f"{_prefix()}:announce:{room_id}", "1", nx=True, px=int(ttl_seconds * 1000)))


def release_announcement(room_id: int) -> None:
    client().delete(f"{_prefix()}:announce:{room_id}")
