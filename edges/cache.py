"""The hot odds cache: one Redis snapshot per market, `markets:{market_id}`.

A snapshot is {"version", "as_of", "status", "prices": {outcome_id: {book: [price, version,
suspended]}}, "suspensions": [book, ...]}. It lives 8-15 s (jittered, so a burst of
markets written together does not expire together); in its last 2-3 s it is still
served (stale-while-revalidate) while one reader rebuilds it from the database.

Versions only move forward: writes go through a Lua compare-and-set against a version
floor kept longer than the snapshot, so a slow writer holding an older view can never
replace a newer snapshot, even after the newer one expired.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Iterable
from typing import Any

import redis

from betthat.core import redis as bt_redis

TTL_RANGE_MS = (8_000, 15_000)
SWR_RANGE_MS = (2_000, 3_000)
FLOOR_TTL_MS = 3_600_000
REBUILD_LOCK_MS = 3_000


def client() -> redis.Redis:
    return bt_redis.client()


def market_key(market_id: int) -> str:
    return bt_redis.key("markets", market_id)


def _floor_key(market_id: int) -> str:
    return bt_redis.key("markets", market_id, "version")


def _ttl_ms() -> tuple[int, int]:
    return random.randint(*TTL_RANGE_MS), random.randint(*SWR_RANGE_MS)


def _encode(snapshot: dict[str, Any]) -> tuple[int, str, int]:
    ttl, swr = _ttl_ms()
    now_ms = int(time.time() * 1000)
    body = dict(snapshot)
    body["fresh_until_ms"] = now_ms + ttl - swr
    return int(snapshot["version"]), json.dumps(body, separators=(",", ":")), ttl


def snapshot_set(market_id: int, snapshot: dict[str, Any]) -> bool:
    """Write `snapshot` unless a newer version is already there; True if written."""
    return snapshot_set_many([(market_id, snapshot)]) == 1


# The compare-and-set, for one market or many in one call: a market's snapshot is written
# unless its version floor (the newest version written) is above the snapshot's. KEYS: each market's snapshot and
# version floor in turn; ARGV[1] floor_ttl_ms, then each market's version, payload, ttl_ms.
# Returns how many were written.
_CAS_MANY = """
local written = 0
for i = 1, #KEYS / 2 do
  local version = ARGV[3 * i - 1]
  local floor = redis.call('GET', KEYS[2 * i])
  if not floor or tonumber(floor) <= tonumber(version) then
    redis.call('SET', KEYS[2 * i - 1], ARGV[3 * i], 'PX', ARGV[3 * i + 1])
    redis.call('SET', KEYS[2 * i], version, 'PX', ARGV[1])
    written = written + 1
  end
end
return written
"""
# markets per call: a call runs alone on the server, so a batch of a thousand markets is
# cut in a few (one round trip still, pipelined)
CAS_MANY_CHUNK = 200


def snapshot_set_many(snapshots: Iterable[tuple[int, dict[str, Any]]]) -> int:
    """Each snapshot written unless a newer version is there, a few hundred markets per
    script call, in one round trip (one call per market cost more in redis-py than the work
    in Redis). Returns how many snapshots were written (the others had a newer version)."""
    redis_client = client()
    script = redis_client.register_script(_CAS_MANY)
    pipe = redis_client.pipeline(transaction=False)
    keys: list[str] = []
    args: list[Any] = [FLOOR_TTL_MS]
    for market_id, snapshot in snapshots:
        version, payload, ttl = _encode(snapshot)
        keys += (market_key(market_id), _floor_key(market_id))
        args += (version, payload, ttl)
        if len(keys) == 2 * CAS_MANY_CHUNK:
            script(keys=keys, args=args, client=pipe)
            keys, args = [], [FLOOR_TTL_MS]
    if keys:
        script(keys=keys, args=args, client=pipe)
    return sum(pipe.execute()) if len(pipe) else 0


def snapshot_get(market_id: int) -> tuple[dict[str, Any] | None, bool]:
    """(snapshot or None, needs_refresh). In the stale-while-revalidate window the snapshot
    is returned and exactly one caller (a Redis lock) is told to rebuild it."""
    raw = client().get(market_key(market_id))
    if raw is None:
        return None, True
    snapshot = json.loads(raw)
    if int(time.time() * 1000) < snapshot.get("fresh_until_ms", 0):
        return snapshot, False
    acquired = client().set(f"{market_key(market_id)}:rebuild", "1", nx=True, px=REBUILD_LOCK_MS)
    return snapshot, bool(acquired)


def snapshot_version(market_id: int) -> int | None:
    raw = client().get(_floor_key(market_id))
    return int(raw) if raw is not None else None
