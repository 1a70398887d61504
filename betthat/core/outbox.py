"""The transactional outbox: domain events between apps, and to the outside.

    publish("bet.settled", {"bet_id": 12, ...})      # inside the caller's transaction
    @register_handler("bet.settled")                 # anywhere, at import time
    def on_bet_settled(event_id, payload): ...

`publish` writes a row in the caller's database transaction, so an event exists if and
only if its change committed. The relay (`relay_outbox`, run by Celery every second and
nudged on commit) takes undelivered rows with SKIP LOCKED, runs each registered handler
once per event (ProcessedEvent makes redelivery a no-op) and marks it delivered. Delivery
is at least once: a relay killed between the handlers and the mark re-delivers, and the
handlers' idempotency absorbs it.

Handlers are the one way to consume events, in this codebase and beyond it: an app
registers them in a module its AppConfig.ready() imports (betting/handlers.py). A service
outside this process gets events through a handler that forwards them (to a queue, a
webhook, Kafka), idempotent by `event_id`. The relay used to append every event to a Redis
stream as well, which nothing read: a write per event and up to 100,000 entries of memory
per type, for no reader. See docs/architecture.md.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone

from betthat.core.db import binding_cursor
from betthat.core.models import OutboxEvent, ProcessedEvent

logger = logging.getLogger(__name__)

Handler = Callable[[str, dict[str, Any]], None]
_handlers: dict[str, list[Handler]] = defaultdict(list)


def register_handler(event_type: str) -> Callable[[Handler], Handler]:
    def decorator(func: Handler) -> Handler:
        if func not in _handlers[event_type]:
            _handlers[event_type].append(func)
        return func

    return decorator


def handlers_for(event_type: str) -> list[Handler]:
    return list(_handlers.get(event_type, []))


def _clean(payload: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(payload, cls=DjangoJSONEncoder))


def publish(event_type: str, payload: dict[str, Any]) -> OutboxEvent:
    """Record `event_type` with `payload` in the current transaction; relay after commit."""
    event = OutboxEvent.objects.create(event_id=uuid.uuid4(), event_type=event_type, payload=_clean(payload))
    nudge_relay_on_commit()
    return event


_INSERT_MANY_SQL = """
INSERT INTO core_outboxevent (event_id, event_type, payload, created_at, delivered_at, attempts, last_error)
SELECT e.event_id, %(event_type)s, e.payload::jsonb, %(now)s, NULL, 0, ''
  FROM unnest(%(event_ids)b::uuid[], %(payloads)b::text[]) WITH ORDINALITY AS e(event_id, payload, position)
 ORDER BY e.position
RETURNING id
"""


def publish_many(event_type: str, payloads: list[dict[str, Any]]) -> list[OutboxEvent]:
    """`publish` for a batch: one INSERT (arrays bound server-side, not quoted into the SQL
    text, which costs more than the insert for a thousand rows), one relay nudge on commit."""
    if not payloads:
        return []
    now = timezone.now()
    texts = [json.dumps(payload, cls=DjangoJSONEncoder) for payload in payloads]
    events = [
        OutboxEvent(event_id=uuid.uuid4(), event_type=event_type, payload=json.loads(text), created_at=now)
        for text in texts
    ]
    ids = _insert_many(event_type, [event.event_id for event in events], texts, now=now)
    alias = transaction.get_connection().alias
    for event, pk in zip(events, ids, strict=True):
        event.pk = pk
        event._state.adding = False
        event._state.db = alias
    return events


def publish_batch(event_type: str, payloads: list[dict[str, Any]]) -> None:
    """`publish_many` for the hot paths (a settlement batch): the same rows and nudge, without
    building a model instance per event or decoding each payload back."""
    if payloads:
        texts = [json.dumps(payload, cls=DjangoJSONEncoder) for payload in payloads]
        _insert_many(event_type, [uuid.uuid4() for _text in texts], texts, now=timezone.now())


def _insert_many(event_type: str, event_ids: list[uuid.UUID], texts: list[str], *, now: Any) -> list[int]:
    params = {"event_type": event_type, "now": now, "event_ids": event_ids, "payloads": texts}
    with binding_cursor() as cursor:
        cursor.execute(_INSERT_MANY_SQL, params, binary=True)
        ids = sorted(row[0] for row in cursor.fetchall())
    nudge_relay_on_commit()
    return ids


def nudge_relay_on_commit() -> None:
    """Nudge the relay once per outermost transaction, however many events it publishes
    (public for code that writes outbox rows in its own SQL, e.g. wallet.ledger.book).

    Inside an atomic block the nudge is registered only if it is not already among the
    connection's on-commit callbacks. A savepoint rolled back drops the callbacks it
    registered (Django does that), so a later publish registers the nudge again; a whole
    transaction rolled back drops it with its events. In autocommit each publish is its own
    transaction and nudges at once.
    """
    connection = transaction.get_connection()
    if connection.in_atomic_block and any(
        func is _nudge_relay for _sids, func, _robust in connection.run_on_commit
    ):
        return
    transaction.on_commit(_nudge_relay)


# At most one nudge waits in the queue. Every committed transaction with events nudged, so a
# burst of commits (a settlement run, a kick-off) queued thousands of relay tasks on the
# default queue ahead of the payments' webhooks, which then waited minutes. A nudge now
# claims this flag (SET NX); the relay task clears it as it starts, so events committed while
# it runs nudge again and none waits for more than the periodic relay's second. The TTL
# (2 s) frees a flag whose task was lost or never consumed.
NUDGE_FLAG_SECONDS = 2


def _nudge_flag() -> str:
    from betthat.core import redis as bt_redis

    return bt_redis.key("outbox", "nudge-queued")


def _claim_nudge() -> bool:
    """True when no nudge is waiting (or Redis cannot tell: nudge anyway)."""
    from betthat.core import redis as bt_redis

    try:
        return bool(bt_redis.client().set(_nudge_flag(), b"1", nx=True, ex=NUDGE_FLAG_SECONDS))
    except Exception:
        return True


def nudge_taken() -> None:
    """A relay run is starting: the next commit may nudge again (called by the task first)."""
    from betthat.core import redis as bt_redis

    try:
        bt_redis.client().delete(_nudge_flag())
    except Exception:  # the flag's TTL frees it
        logger.warning("could not clear the outbox nudge flag", exc_info=True)


def _nudge_relay() -> None:
    if settings.OUTBOX_NUDGE:
        if not _claim_nudge():
            return  # a relay is already queued; it will see these events
        _send_nudge()


def _send_nudge() -> None:
    from betthat.core.tasks import relay_outbox_task

    try:
        relay_outbox_task.apply_async(queue="default", ignore_result=True)
    except Exception:  # the periodic relay picks it up within a second
        nudge_taken()
        logger.warning("could not nudge the outbox relay", exc_info=True)


def nudge_claim_queue(pipe: Any) -> bool:
    """For a caller that nudges after its own commit and talks to Redis then anyway (the
    placement's fill, with its exposure update): add the nudge's claim (`SET NX`) to `pipe`,
    a pipeline on the same Redis, so both go in one round trip. False (nothing added) when
    nudges are off. Pass the claim's reply to `nudge_after_claim`."""
    if not settings.OUTBOX_NUDGE:
        return False
    pipe.set(_nudge_flag(), b"1", nx=True, ex=NUDGE_FLAG_SECONDS)
    return True


def nudge_after_claim(reply: object, *, failed: bool = False) -> None:
    """Queue the relay task if the claim won (`reply`, the `SET NX`'s: True when set, None
    when a nudge was already waiting). `failed`: the pipeline failed, Redis cannot tell, so
    it nudges anyway, as `_claim_nudge` does."""
    if failed or reply:
        _send_nudge()


def _run_handler(handler: Handler, event: OutboxEvent) -> None:
    name = f"{handler.__module__}.{handler.__qualname__}"
    with transaction.atomic():
        try:
            with transaction.atomic():
                ProcessedEvent.objects.create(event_id=event.event_id, handler=name)
        except IntegrityError:
            return  # already handled: at-least-once delivery, exactly-once effect
        handler(str(event.event_id), event.payload)


def relay_outbox(*, batch_size: int = 200) -> int:
    """Deliver up to `batch_size` pending events; return how many were delivered."""
    delivered = 0
    with transaction.atomic():
        events = list(
            OutboxEvent.objects.select_for_update(skip_locked=True)
            .filter(delivered_at__isnull=True)
            .order_by("id")[:batch_size]
        )
        for event in events:
            try:
                for handler in handlers_for(event.event_type):
                    _run_handler(handler, event)
            except Exception as error:  # keep the event; try again on the next run
                logger.exception("outbox delivery of %s failed", event)
                OutboxEvent.objects.filter(pk=event.pk).update(
                    attempts=event.attempts + 1, last_error=repr(error)[:2000]
                )
                continue
            OutboxEvent.objects.filter(pk=event.pk).update(
                delivered_at=timezone.now(), attempts=event.attempts + 1, last_error=""
            )
            delivered += 1
    return delivered
