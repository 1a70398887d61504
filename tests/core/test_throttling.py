"""The API throttles (betthat/core/throttling.py): DRF's rates and keys, a sliding window
kept in a Redis sorted set, one round trip per allowed request."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from rest_framework.test import APIRequestFactory, force_authenticate
from rest_framework.views import APIView

from betthat.core import throttling
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self, now: float = 1_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class ScopedView(APIView):
    throttle_scope = "token"


def user_throttle(rate: str, clock: Clock) -> throttling.UserRateThrottle:
    throttle = throttling.UserRateThrottle()
    throttle.rate = rate
    throttle.num_requests, throttle.duration = throttle.parse_rate(rate)
    throttle.timer = clock
    return throttle


def request_of(user):
    request = APIRequestFactory().get("/api/v1/me/")
    force_authenticate(request, user=user)
    return APIView().initialize_request(request)


def test_the_rate_is_a_sliding_window_and_refusals_do_not_count():
    user, clock = UserFactory(), Clock()
    request = request_of(user)
    allowed = []
    for second in (0, 10, 20, 30, 40):
        clock.now = 1_000_000.0 + second
        allowed.append(user_throttle("3/min", clock).allow_request(request, None))
    assert allowed == [True, True, True, False, False]
    refused = user_throttle("3/min", clock)
    clock.now = 1_000_000.0 + 50
    assert refused.allow_request(request, None) is False
    # the oldest request (t=0) frees its slot at t=60: ten seconds from t=50
    assert refused.wait() == pytest.approx(10.0)
    key = cache.make_and_validate_key(refused.key)
    assert cache.redis_client().zcard(key) == 3  # the refused ones took their entries back
    assert 0 < cache.redis_client().ttl(key) <= 60
    clock.now = 1_000_000.0 + 60.5  # t=0 left the window; t=10 and t=20 are still in it
    assert user_throttle("3/min", clock).allow_request(request, None) is True
    assert user_throttle("3/min", clock).allow_request(request, None) is False


def test_each_user_has_a_window_of_their_own():
    clock = Clock()
    first, second = request_of(UserFactory()), request_of(UserFactory())
    assert user_throttle("1/min", clock).allow_request(first, None) is True
    assert user_throttle("1/min", clock).allow_request(first, None) is False
    assert user_throttle("1/min", clock).allow_request(second, None) is True


def test_an_allowed_request_is_one_round_trip(monkeypatch):
    import redis.client

    request = request_of(UserFactory())
    calls = []
    execute = redis.client.Pipeline.execute
    command = redis.client.Redis.execute_command

    def counted_execute(self, *args, **kwargs):
        calls.append("pipeline")
        return execute(self, *args, **kwargs)

    def counted_command(self, *args, **kwargs):
        calls.append(args[0])
        return command(self, *args, **kwargs)

    monkeypatch.setattr(redis.client.Pipeline, "execute", counted_execute)
    monkeypatch.setattr(redis.client.Redis, "execute_command", counted_command)
    assert user_throttle("5/min", Clock()).allow_request(request, None) is True
    assert calls == ["pipeline"]


def test_the_scoped_throttle_reads_its_scope_from_the_view(settings):
    clock = Clock()
    request = APIRequestFactory().post("/api/v1/auth/token/", REMOTE_ADDR="192.0.2.44")
    request = APIView().initialize_request(request)
    results = []
    for _ in range(11):
        throttle = throttling.ScopedRateThrottle()
        throttle.timer = clock
        results.append(throttle.allow_request(request, ScopedView()))
    # the "token" scope's rate: 10 a minute
    assert results == [True] * 10 + [False]
    assert throttle.key == "throttle_token_192.0.2.44"
