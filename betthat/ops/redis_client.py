"""Short-timeout Redis clients for the operations endpoints.

Health checks, the dashboard and the metrics scrape must answer quickly when Redis is down
(a probe that hangs is worse than one that fails), so their clients connect and read with a
timeout of `OPS_REDIS_TIMEOUT_SECONDS`. One pool per URL and process.
"""

from __future__ import annotations

import threading

import redis
from django.conf import settings

_pools: dict[str, redis.ConnectionPool] = {}
_lock = threading.Lock()


def ops_redis(url: str | None = None) -> redis.Redis:
    """A client on `url` (default: REDIS_URL) that gives up after the ops timeout."""
    url = url or settings.REDIS_URL
    with _lock:
        pool = _pools.get(url)
        if pool is None:
            timeout = settings.OPS_REDIS_TIMEOUT_SECONDS
            pool = _pools[url] = redis.ConnectionPool.from_url(
                url, socket_connect_timeout=timeout, socket_timeout=timeout, retry_on_timeout=False
            )
    return redis.Redis(connection_pool=pool)
