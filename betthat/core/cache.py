"""Django's Redis cache on the process's shared connection pools and clients
(betthat/core/redis.py).

Django keeps one cache backend per context (`CacheHandler` is not thread-critical), and each
backend builds its own connection pool. HTTP runs in a2wsgi's thread pool, which runs every
request in a copy of the context (see betthat/asgi.py), so each request got a new backend, a
new pool and a new Redis connection (connect, HELLO, CLIENT SETINFO) for its first cache
call: the API throttle's, on every request. With this pool class the backends of a process
share one pool per URL and options, with the pool settings of every other Redis client of
ours, and connections are reused across requests.

`RedisCache` goes one step further: Django's backend builds a new `redis.Redis` for every
cache call (`RedisCacheClient.get_client`), and building one costs more CPU than the call
itself (issue 14: two of them per API request, for the throttle's read and write, were the
largest single item in a placement's CPU profile). Ours takes the process's one client per
pool, and hands it to code that needs Redis commands the cache API lacks (`redis_client`,
used by the API throttles in betthat/core/throttling.py).
"""

from __future__ import annotations

from typing import Any

import redis
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient as DjangoRedisCacheClient

from betthat.core.redis import client_for_pool, shared_pool


class SharedConnectionPool(redis.ConnectionPool):
    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> redis.ConnectionPool:  # type: ignore[override]
        return shared_pool(url, **kwargs)


class RedisCacheClient(DjangoRedisCacheClient):
    def get_client(self, key: Any = None, *, write: bool = False) -> redis.Redis:
        # `_get_connection_pool` is Django's own (its stubs leave it out): the pool per index.
        return client_for_pool(self._get_connection_pool(write))  # type: ignore[attr-defined]


class RedisCache(DjangoRedisCache):
    def __init__(self, server: str, params: dict[str, Any]) -> None:
        super().__init__(server, params)
        self._class = RedisCacheClient

    def redis_client(self) -> redis.Redis:
        """The Redis client behind this cache (its writer's pool), for commands the cache API
        has no word for; keys must still go through `make_and_validate_key`."""
        return self._cache.get_client(write=True)
