import pytest
import redis
from django.conf import settings
from django.db import transaction

from betthat.core import outbox
from betthat.core.models import OutboxEvent, ProcessedEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls():
    received: list[tuple[str, dict]] = []

    def handler(event_id, payload):
        received.append((event_id, payload))

    outbox.register_handler("test.happened")(handler)
    yield received
    outbox._handlers["test.happened"].remove(handler)


def test_event_is_only_written_when_the_transaction_commits(calls):
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.publish("test.happened", {"n": 1})
        raise RuntimeError("rolled back")
    assert OutboxEvent.objects.count() == 0


def test_relay_delivers_once_to_handlers_and_writes_no_unread_stream(calls):
    client = redis.Redis.from_url(settings.REDIS_URL)
    stream = "events:test.happened"  # where the relay used to append every event
    before = client.xlen(stream)
    event = outbox.publish("test.happened", {"amount": "12.50"})
    assert outbox.relay_outbox() == 1
    assert calls == [(str(event.event_id), {"amount": "12.50"})]
    event.refresh_from_db()
    assert event.delivered_at is not None
    # Handlers are how events are consumed; nothing reads a Redis stream, so none is written.
    assert client.xlen(stream) == before
    # A second relay run finds nothing to do.
    assert outbox.relay_outbox() == 0
    assert len(calls) == 1
    client.close()


def test_redelivery_runs_each_handler_once(calls):
    event = outbox.publish("test.happened", {"n": 2})
    outbox.relay_outbox()
    OutboxEvent.objects.filter(pk=event.pk).update(delivered_at=None)  # as if the mark was lost
    assert outbox.relay_outbox() == 1
    assert len(calls) == 1
    assert ProcessedEvent.objects.filter(event_id=event.event_id).count() == 1


def test_failing_handler_keeps_the_event_for_retry():
    attempts = []

    def flaky(event_id, payload):
        attempts.append(event_id)
        if len(attempts) == 1:
            raise ValueError("downstream unavailable")

    outbox.register_handler("test.flaky")(flaky)
    try:
        event = outbox.publish("test.flaky", {})
        assert outbox.relay_outbox() == 0
        event.refresh_from_db()
        assert event.delivered_at is None and event.attempts == 1
        assert "downstream unavailable" in event.last_error
        assert outbox.relay_outbox() == 1
        assert len(attempts) == 2
    finally:
        outbox._handlers["test.flaky"].remove(flaky)


def _nudges(callbacks) -> int:
    return sum(1 for callback in callbacks if callback is outbox._nudge_relay)


def test_one_nudge_per_transaction_however_many_events(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        for n in range(5):
            outbox.publish("test.happened", {"n": n})
        with transaction.atomic():
            outbox.publish("test.happened", {"n": 5})
        outbox.publish_many("test.happened", [{"n": 6}, {"n": 7}])
    assert _nudges(callbacks) == 1
    assert OutboxEvent.objects.filter(event_type="test.happened").count() == 8


def test_nudge_registered_again_after_a_rolled_back_savepoint(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        with pytest.raises(RuntimeError), transaction.atomic():
            outbox.publish("test.happened", {"n": 1})
            raise RuntimeError("savepoint rolled back")
        outbox.publish("test.happened", {"n": 2})
    assert _nudges(callbacks) == 1
    assert list(OutboxEvent.objects.values_list("payload", flat=True)) == [{"n": 2}]


@pytest.mark.django_db(transaction=True)
def test_each_committed_transaction_nudges_once(monkeypatch):
    nudged = []
    monkeypatch.setattr(outbox, "_nudge_relay", lambda: nudged.append(1))
    with transaction.atomic():
        outbox.publish("test.happened", {"n": 1})
        outbox.publish("test.happened", {"n": 2})
    assert len(nudged) == 1
    with transaction.atomic():
        outbox.publish_many("test.happened", [{"n": 3}, {"n": 4}])
        outbox.publish("test.happened", {"n": 5})
    assert len(nudged) == 2
    with pytest.raises(RuntimeError), transaction.atomic():
        outbox.publish("test.happened", {"n": 6})
        raise RuntimeError("rolled back")
    assert len(nudged) == 2
    outbox.publish("test.happened", {"n": 7})  # autocommit: its own transaction
    assert len(nudged) == 3
    assert OutboxEvent.objects.filter(event_type="test.happened").count() == 6


def test_publish_many_writes_one_row_per_payload_and_relays_them(calls, django_capture_on_commit_callbacks):
    payloads = [{"n": n, "amount": "1.50"} for n in range(3)]
    with django_capture_on_commit_callbacks() as callbacks:
        events = outbox.publish_many("test.happened", payloads)
    assert _nudges(callbacks) == 1
    assert [event.payload for event in events] == payloads
    assert len({event.event_id for event in events}) == 3
    assert outbox.publish_many("test.happened", []) == []
    assert outbox.relay_outbox() == 3
    assert [payload for _event_id, payload in calls] == payloads


def test_a_burst_of_commits_queues_one_relay_until_it_starts(monkeypatch, settings):
    """Issue 14: a settlement run commits a batch a second, each nudging the relay; thousands
    of relay tasks queued on the default queue ahead of the payments' webhooks. One nudge
    waits at a time; the relay task clears the flag as it starts, so later commits nudge."""
    from betthat.core.tasks import relay_outbox_task

    settings.OUTBOX_NUDGE = True
    outbox.nudge_taken()
    sent = []
    monkeypatch.setattr(relay_outbox_task, "apply_async", lambda **options: sent.append(options))
    for _ in range(50):
        outbox._nudge_relay()
    assert len(sent) == 1
    relay_outbox_task()  # the queued relay starts (and delivers what is pending)
    outbox._nudge_relay()
    outbox._nudge_relay()
    assert len(sent) == 2
    outbox.nudge_taken()
