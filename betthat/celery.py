"""The Celery app: Redis broker, queues default / odds / settlement / closing / email.

Tasks that move money (settlement, payments, the outbox relay) are acks_late with
reject-on-worker-lost, so a worker killed mid-task leaves the message for another run;
the services they call are idempotent, so a second run changes nothing twice.

The kick-off closing-line capture has its own `closing` queue (and its own worker in
scripts/run.py): a capture over 100,000 legs can take a while, and it must never starve
payments (default) or settlement behind it.

Notification emails have their own `email` queue (and worker) for the same reason: a settlement
run of 100,000 bets owes an email for each, and on `default` a deposit's webhook waited behind
them (bench/betting's kick-off: deposits credited after 2.5-4.0 s instead of 0.4 s).
"""

import os

from celery import Celery
from celery.signals import worker_process_init, worker_ready
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "betthat.settings")

app = Celery("betthat")
app.config_from_object("django.conf:settings", namespace="CELERY")
# Each queue is bound by its own routing key. Declared by name alone, every queue was bound to
# the default exchange with the routing key "default", and the Redis transport copied each
# task into all of them: a task ran once per queue a worker listened to, and a queue of its
# own separated nothing.
app.conf.task_queues = [
    Queue(name, routing_key=name) for name in ("default", "odds", "settlement", "closing", "email")
]
app.conf.task_routes = {
    "edges.tasks.*": {"queue": "odds"},
    "betting.tasks.settle_*": {"queue": "settlement"},
    "betting.tasks.capture_*": {"queue": "closing"},
    "betthat.users.tasks.send_*": {"queue": "email"},
    "*": {"queue": "default"},
}
app.conf.task_default_retry_delay = 2
app.conf.broker_connection_retry_on_startup = True
app.autodiscover_tasks(["betthat.core", "betthat.users"])
app.autodiscover_tasks()


@worker_ready.connect
@worker_process_init.connect
def _freeze_startup_objects(**_kwargs: object) -> None:
    """The worker's start-up objects out of the collector's full scans (betthat/core/gc.py):
    a settlement batch makes enough objects to trigger them. `worker_ready` covers the solo
    pool; `worker_process_init` each forked child of the prefork pool."""
    from betthat.core.gc import freeze_startup_objects

    freeze_startup_objects()
