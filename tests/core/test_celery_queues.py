"""Each Celery queue gets only its own tasks (issue 14: the kick-off capture must not starve
payments or settlement, so it has a queue and a worker of its own).

The queues were declared by name alone, so all of them were bound to the default exchange
with the routing key "default", and the Redis transport copied every task into every queue:
each task ran once per queue a worker listened to, and the closing worker ran payments."""

from __future__ import annotations

import pytest

from betthat.celery import app

ROUTES = {
    "betting.tasks.capture_closing_lines_task": "closing",
    "betting.tasks.settle_due_bets_task": "settlement",
    "edges.tasks.expire_edges_task": "odds",
    "wallet.tasks.deliver_sandbox_webhooks_task": "default",
    "betthat.users.tasks.send_notification_email_task": "email",
    "betthat.users.tasks.send_due_notification_emails_task": "email",
}


def test_every_queue_is_bound_by_a_routing_key_of_its_own():
    keys = {name: queue.routing_key for name, queue in app.amqp.queues.items()}
    assert set(keys) == {"default", "odds", "settlement", "closing", "email"}
    assert keys == {name: name for name in keys}


@pytest.mark.parametrize(("task", "queue"), ROUTES.items())
def test_a_task_is_published_with_its_queues_key_only(task, queue):
    route = app.amqp.router.route({}, task)["queue"]
    assert route.name == queue
    # what the Redis transport matches bindings on: no other queue shares this key
    others = [q.name for q in app.amqp.queues.values() if q.routing_key == route.routing_key]
    assert others == [queue]
