"""The Celery app: Redis broker, queues default / odds / settlement.

Tasks that move money (settlement, payments, the outbox relay) are acks_late with
reject-on-worker-lost, so a worker killed mid-task leaves the message for another run;
the services they call are idempotent, so a second run changes nothing twice.
"""

import os

from celery import Celery
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "betthat.settings")

app = Celery("betthat")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.conf.task_queues = [Queue("default"), Queue("odds"), Queue("settlement")]
app.conf.task_routes = {
    "edges.tasks.*": {"queue": "odds"},
    "betting.tasks.settle_*": {"queue": "settlement"},
    "betting.tasks.capture_*": {"queue": "settlement"},
    "*": {"queue": "default"},
}
app.conf.task_default_retry_delay = 2
app.conf.broker_connection_retry_on_startup = True
app.autodiscover_tasks(["betthat.core", "betthat.users"])
app.autodiscover_tasks()
