"""A process-wide Redis connection pool for Django's cache.

Django keeps one cache backend per context (`CacheHandler` is not thread-critical), and each
backend builds its own connection pool. HTTP runs in a2wsgi's thread pool, which runs every
request in a copy of the context (see betthat/asgi.py), so each request got a new backend, a
new pool and a new Redis connection (connect, HELLO, CLIENT SETINFO) for its first cache
call: the API throttle's, on every request. With this pool class the backends of a process
share one pool per URL and options, and connections are reused across requests.
"""

from __future__ import annotations

import threading

import redis


class SharedConnectionPool(redis.ConnectionPool):
    _shared: dict[tuple, redis.ConnectionPool] = {}
    _lock = threading.Lock()

    @classmethod
    def from_url(cls, url: str, **kwargs) -> redis.ConnectionPool:
        key = (url, tuple(sorted(kwargs.items(), key=lambda item: item[0])))
        with cls._lock:
            pool = cls._shared.get(key)
            if pool is None:
                pool = cls._shared[key] = super().from_url(url, **kwargs)
        return pool
