"""Django's Redis cache on the process's shared connection pools (betthat/core/redis.py).

Django keeps one cache backend per context (`CacheHandler` is not thread-critical), and each
backend builds its own connection pool. HTTP runs in a2wsgi's thread pool, which runs every
request in a copy of the context (see betthat/asgi.py), so each request got a new backend, a
new pool and a new Redis connection (connect, HELLO, CLIENT SETINFO) for its first cache
call: the API throttle's, on every request. With this pool class the backends of a process
share one pool per URL and options, with the pool settings of every other Redis client of
ours, and connections are reused across requests.
"""

from __future__ import annotations

from typing import Any

import redis

from betthat.core.redis import shared_pool


class SharedConnectionPool(redis.ConnectionPool):
    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> redis.ConnectionPool:  # type: ignore[override]
        return shared_pool(url, **kwargs)
