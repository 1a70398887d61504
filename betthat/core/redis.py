"""The one way to talk to Redis from our code.

    from betthat.core import redis as bt_redis
    bt_redis.client().get(bt_redis.key("markets", 12))          # sync, shared pool
    bt_redis.client(decode_responses=True).hgetall(...)          # str replies
    async with bt_redis.async_client() as client: ...            # one event loop's client

Every synchronous client of a process shares one connection pool per URL and reply type
(`shared_pool`), Django's cache included (`betthat.core.cache.SharedConnectionPool` asks
here), and the pool settings live in one place: settings.REDIS_* (max connections, socket
and connect timeouts, health checks). Clients are built under a lock: threads racing to
build one each used to garbage-collect the loser, and a `Redis` made by `from_url` closes
its own pool in `__del__` while another thread may still be connecting through it. Here a
client never owns its pool, so nothing is closed behind anyone's back. redis-py resets a
pool in a forked child by itself (Celery's prefork workers).

Keys: `key(...)` prefixes them with the cache's KEY_PREFIX, which carries REDIS_KEY_PREFIX
and the pytest-xdist worker id, so checkouts and test workers that share one Redis never
see each other's keys. Two things keep their own clients on purpose: the channel layer
(channels_redis manages one async pool per event loop, with a longer read timeout than
these, see settings.CHANNEL_LAYERS) and Celery's broker connection (kombu).
"""

from __future__ import annotations

import threading
from typing import Any

import redis
import redis.asyncio
from django.conf import settings

_pools: dict[tuple[str, tuple[tuple[str, Any], ...]], redis.ConnectionPool] = {}
_pool_clients: dict[int, tuple[redis.ConnectionPool, redis.Redis]] = {}
_lock = threading.Lock()


def pool_options() -> dict[str, Any]:
    """The connection pool settings every Redis client of ours uses."""
    return {
        "max_connections": settings.REDIS_MAX_CONNECTIONS,
        "socket_timeout": settings.REDIS_SOCKET_TIMEOUT,
        "socket_connect_timeout": settings.REDIS_SOCKET_CONNECT_TIMEOUT,
        "health_check_interval": settings.REDIS_HEALTH_CHECK_INTERVAL,
    }


def shared_pool(
    url: str | None = None, *, pool_class: type[redis.ConnectionPool] = redis.ConnectionPool, **options: Any
) -> redis.ConnectionPool:
    """The process's pool for `url` and `options` (our pool settings unless overridden)."""
    url = url or settings.REDIS_URL
    merged = {**pool_options(), **options}
    key = (url, tuple(sorted(merged.items())))
    with _lock:
        pool = _pools.get(key)
        if pool is None:
            pool = _pools[key] = pool_class.from_url(url, **merged)
        return pool


def client(*, decode_responses: bool = False) -> redis.Redis:
    """The process's Redis client for settings.REDIS_URL (bytes, or str replies)."""
    return client_for_pool(shared_pool(settings.REDIS_URL, decode_responses=decode_responses))


def client_for_pool(pool: redis.ConnectionPool) -> redis.Redis:
    """The process's one client on `pool`. A `redis.Redis` is cheap to use and dear to build
    (redis-py 8 fills a case-insensitive table of about 170 reply callbacks in `__init__`),
    and it is thread-safe over its pool, so it is built once per pool, not once per call."""
    found = _pool_clients.get(id(pool))
    if found is not None and found[0] is pool:
        return found[1]
    with _lock:
        found = _pool_clients.get(id(pool))
        if found is None or found[0] is not pool:
            found = _pool_clients[id(pool)] = (pool, redis.Redis(connection_pool=pool))
        return found[1]


def async_client() -> redis.asyncio.Redis:
    """A new asyncio client for the running event loop, with our pool settings; the caller
    closes it (`async with`, or `await client.aclose()`). asyncio pools cannot be shared
    between event loops, so there is no process-wide one."""
    return redis.asyncio.Redis.from_url(settings.REDIS_URL, **pool_options())


def prefix() -> str:
    return str(settings.CACHES["default"].get("KEY_PREFIX", ""))


def key(*parts: object) -> str:
    """`<prefix>:part:part...`: a key (or pub/sub channel) private to this checkout and worker."""
    return ":".join([prefix(), *(str(part) for part in parts)])
