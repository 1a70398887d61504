"""The API's throttles: DRF's rates, scopes and keys, counted in one Redis round trip.

DRF's `SimpleRateThrottle` keeps each client's request times as a pickled list in the cache:
a read and a write per request (two round trips, and a list of up to the rate's size pickled
both ways). Ours keeps the same sliding log as a sorted set and checks and records a request
in one `MULTI`: drop the times older than the window, add this one, count, refresh the
expiry. A refused request takes its own entry back (a second round trip, on refusal only),
so refusals do not count against the client, as in DRF. Rates and keys are DRF's
(`THROTTLE_RATES`, `get_cache_key`), the keys go through the cache's prefix and version, so
tests and checkouts sharing one Redis stay apart, and a Redis outage raises the same
`redis` errors as the cache did (503, betthat/ops).

A cache backend without `redis_client` (not ours) falls back to DRF's own implementation.
"""

from __future__ import annotations

import secrets
from typing import Any

from rest_framework import throttling

from betthat.core.client_ip import client_ip


class SlidingWindowThrottle(throttling.SimpleRateThrottle):
    """DRF's `SimpleRateThrottle` with the sliding log in a Redis sorted set. The DRF
    throttles below put it after themselves in their bases, so their own `allow_request`
    (the scoped throttle's, which finds its scope and rate on the view) still runs first."""

    num_requests: int
    duration: int
    _held: int
    _oldest: float | None

    def get_ident(self, request: Any) -> str:
        """The client's address as allauth and /metrics see it (betthat.core.client_ip)."""
        return client_ip(request)

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None:
            return True
        redis_client = getattr(self.cache, "redis_client", None)
        if redis_client is None:
            return super().allow_request(request, view)
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        key = self.cache.make_and_validate_key(self.key)
        self.now = now = self.timer()
        member = f"{now:.6f}:{secrets.token_hex(4)}"
        client = redis_client()
        with client.pipeline(transaction=True) as pipe:
            pipe.zremrangebyscore(key, "-inf", now - self.duration)
            pipe.zadd(key, {member: now})
            pipe.zcard(key)
            pipe.expire(key, self.duration)
            _dropped, _added, count, _expiry = pipe.execute()
        if count <= self.num_requests:
            return True
        with client.pipeline(transaction=True) as pipe:
            pipe.zrem(key, member)
            pipe.zcard(key)
            pipe.zrange(key, 0, 0, withscores=True)
            _removed, self._held, oldest = pipe.execute()
        self._oldest = oldest[0][1] if oldest else None
        return False

    def wait(self) -> float | None:
        """DRF's advice, from the window's count and its oldest entry: the time until a
        slot frees, spread over the requests that will then be available."""
        if not hasattr(self, "_held"):
            return super().wait()
        remaining = self.duration - (self.now - self._oldest) if self._oldest is not None else self.duration
        available = self.num_requests - self._held + 1
        if available <= 0:
            return None
        return remaining / float(available)


class AnonRateThrottle(throttling.AnonRateThrottle, SlidingWindowThrottle):
    pass


class UserRateThrottle(throttling.UserRateThrottle, SlidingWindowThrottle):
    pass


class ScopedRateThrottle(throttling.ScopedRateThrottle, SlidingWindowThrottle):
    pass
