"""Django's Redis cache reuses one connection pool per process, even when every request runs
in a fresh context (a2wsgi runs each request in a copy of the event loop's context, where
the cache was never touched, so Django builds a new cache backend per request)."""

import contextvars

from django.conf import settings
from django.core.cache import caches


def request(n):
    backend = caches["default"]
    backend.set(f"pool-test-{n}", n, 30)
    return backend.get(f"pool-test-{n}"), backend._cache._get_connection_pool(True)


def test_requests_in_fresh_contexts_share_one_pool_and_connection():
    results = [contextvars.Context().run(request, n) for n in range(5)]
    assert [value for value, _pool in results] == [0, 1, 2, 3, 4]
    assert len({id(pool) for _value, pool in results}) == 1
    pool = results[0][1]
    # sequential requests reuse one connection instead of opening one each
    assert len(pool._available_connections) + len(pool._in_use_connections) == 1


def test_without_the_shared_pool_each_context_gets_its_own_pool(settings):
    default = dict(settings.CACHES["default"])
    default.pop("OPTIONS")
    settings.CACHES = {"default": default}
    results = [contextvars.Context().run(request, n) for n in range(3)]
    assert [value for value, _pool in results] == [0, 1, 2]
    assert len({id(pool) for _value, pool in results}) == 3
    for _value, pool in results:
        pool.disconnect()


def test_the_setting_names_the_shared_pool():
    assert settings.CACHES["default"]["OPTIONS"]["pool_class"] == "betthat.core.cache.SharedConnectionPool"
