"""Notification emails travel on their own `email` queue and worker (betthat/celery.py), so a
burst of owed emails (a settlement run owes one per bet) never holds up a deposit's webhook on
`default`. Real Celery workers, as scripts/run.py starts them."""

from __future__ import annotations

import pytest

from betthat.celery import app
from betthat.core.outbox import relay_outbox
from betthat.ops.selectors import queue_depths
from betthat.users.models import EmailNotification
from tests.conftest import wait_until
from tests.factories import UserFactory
from tests.wallet.factories import fund_user

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def _statuses(user) -> list[str]:
    return list(EmailNotification.objects.filter(user=user).values_list("status", flat=True))


def _depth(queue: str) -> int:
    return next(q["depth"] for q in queue_depths() if q["name"] == queue)


def test_an_owed_email_is_sent_by_the_email_worker_and_never_by_the_main_one(settings, celery_worker_process):
    settings.OUTBOX_NUDGE = False  # the test relays itself; nothing else on the queues
    # tasks earlier tests of this test worker queued with no worker to run them (its own
    # broker prefix): gone, so the queues hold only what this test sends
    app.control.purge()
    celery_worker_process(queues="default,odds,settlement")
    user = UserFactory()
    fund_user(user, 5_000)
    relay_outbox()  # the deposit's event: one owed email, its task queued on commit
    # the task waits in the email queue, which the main worker does not read
    assert _depth("email") == 1
    assert _statuses(user) == ["pending"]

    celery_worker_process(queues="email", extra=["--pool", "threads", "--concurrency", "4", "-n", "mail@%h"])
    wait_until(lambda: _statuses(user) == ["sent"], timeout=30, what="the email worker to send it")
