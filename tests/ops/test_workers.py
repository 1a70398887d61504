"""A Celery worker whose broker restarts reconnects by itself: the outbox relays again."""

from __future__ import annotations

import pytest
from django.db import transaction

from betthat.celery import app
from betthat.core.models import OutboxEvent
from betthat.core.outbox import publish
from betthat.core.tasks import relay_outbox_task
from tests.ops.factories import wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def relay_through(url: str) -> None:
    """Ask the worker on `url`'s broker to relay the outbox (retried while Redis restarts)."""

    def sent() -> bool:
        try:
            with app.connection_for_write(url) as connection:
                relay_outbox_task.apply_async(connection=connection, retry=False)
        except Exception:
            return False
        return True

    wait_for(sent, timeout=30, interval=0.2)


def delivered(event: OutboxEvent) -> bool:
    return OutboxEvent.objects.filter(pk=event.pk, delivered_at__isnull=False).exists()


@pytest.fixture
def redis_is_ours(own_redis, settings):
    """Before the worker fixture reads it: the worker's broker, cache and streams are a Redis
    this test starts and stops."""
    settings.REDIS_URL = own_redis.url
    settings.OUTBOX_NUDGE = False
    return own_redis


def test_the_worker_reconnects_after_its_broker_restarts(redis_is_ours, celery_worker_process):
    own_redis = redis_is_ours
    celery_worker_process(queues="default")

    with transaction.atomic():
        before = publish("ops.test", {"n": 1})
    relay_through(own_redis.url)
    wait_for(lambda: delivered(before), timeout=30, interval=0.1)

    own_redis.stop()
    with transaction.atomic():
        after = publish("ops.test", {"n": 2})
    own_redis.start()
    relay_through(own_redis.url)
    wait_for(lambda: delivered(after), timeout=60, interval=0.1)
