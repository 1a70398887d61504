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
    first = contextvars.Context().run(request, 0)
    pool = first[1]
    # the process's shared pool may already hold connections of earlier tests: count growth
    before = len(pool._available_connections) + len(pool._in_use_connections)
    results = [first] + [contextvars.Context().run(request, n) for n in range(1, 5)]
    assert [value for value, _pool in results] == [0, 1, 2, 3, 4]
    assert len({id(pool) for _value, pool in results}) == 1
    # sequential requests reuse a connection instead of opening one each
    assert len(pool._available_connections) + len(pool._in_use_connections) == before >= 1


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


def test_the_redis_client_is_built_once_by_racing_threads(monkeypatch):
    """HTTP threads making their first Redis call at once share one client and one pool: a
    client replaced by another thread used to close its pool when garbage-collected, under
    the first thread's feet (seen as failed placements under load)."""
    import threading
    import time

    import redis

    from betthat.core import redis as bt_redis

    monkeypatch.setattr(bt_redis, "_pool_clients", {})
    monkeypatch.setattr(bt_redis, "_pools", {})
    build = redis.ConnectionPool.from_url.__func__

    def slow_build(cls, *args, **kwargs):  # widen the race window deterministically
        time.sleep(0.01)
        return build(cls, *args, **kwargs)

    monkeypatch.setattr(redis.ConnectionPool, "from_url", classmethod(slow_build))
    barrier = threading.Barrier(16)
    clients = []

    def first_use():
        barrier.wait()
        clients.append(bt_redis.client(decode_responses=True))

    threads = [threading.Thread(target=first_use) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(clients) == 16 and len({id(c) for c in clients}) == 1
    assert clients[0].ping() is True
    assert len(bt_redis._pools) == 1


def test_every_redis_client_of_ours_uses_the_pool_settings(settings, monkeypatch):
    from betthat.core import redis as bt_redis
    from betting import exposure
    from edges import cache

    monkeypatch.setattr(bt_redis, "_pool_clients", {})
    monkeypatch.setattr(bt_redis, "_pools", {})
    settings.REDIS_MAX_CONNECTIONS = 77
    settings.REDIS_SOCKET_TIMEOUT = 4.5
    _value, cache_pool = contextvars.Context().run(request, 99)  # a fresh cache backend
    for pool in (bt_redis.client().connection_pool, exposure.client().connection_pool, cache_pool):
        assert pool.max_connections == 77
        assert pool.connection_kwargs["socket_timeout"] == 4.5
    assert exposure.client() is bt_redis.client(decode_responses=True)
    assert cache.client() is bt_redis.client()


def test_requests_in_fresh_contexts_share_one_redis_client():
    """Django's backend built a `redis.Redis` for every cache call (dearer than the call);
    ours hands out the process's one client per pool, across contexts and calls."""
    import redis

    def client_of_a_request():
        backend = caches["default"]
        return backend._cache.get_client(write=True), backend._cache.get_client(write=False), backend

    results = [contextvars.Context().run(client_of_a_request) for _ in range(3)]
    clients = {id(writer) for writer, _reader, _backend in results} | {id(r) for _w, r, _b in results}
    assert len(clients) == 1
    assert len({id(backend) for _w, _r, backend in results}) == 3  # new backends, one client
    assert isinstance(results[0][0], redis.Redis)
    assert results[0][2].redis_client() is results[0][0]
