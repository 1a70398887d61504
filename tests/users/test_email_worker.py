"""Notification emails travel on their own `email` queue and worker (betthat/celery.py), so a
burst of owed emails (a settlement run owes one per bet) never holds up a deposit's webhook on
`default`. Real Celery workers, as scripts/run.py starts them."""

from __future__ import annotations

import time

import pytest

from betthat.core.outbox import relay_outbox
from betthat.users.models import EmailNotification
from tests.factories import UserFactory
from tests.wallet.factories import fund_user

pytestmark = [pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def _statuses(user) -> list[str]:
    return list(EmailNotification.objects.filter(user=user).values_list("status", flat=True))


def test_an_owed_email_is_sent_by_the_email_worker_and_never_by_the_main_one(settings, celery_worker_process):
    settings.OUTBOX_NUDGE = False  # the test relays itself; nothing else on the queues
    celery_worker_process(queues="default,odds,settlement")
    user = UserFactory()
    fund_user(user, 5_000)
    relay_outbox()  # the deposit's event: one owed email, its task queued on commit
    assert _statuses(user) == ["pending"]
    time.sleep(2)
    assert _statuses(user) == ["pending"]  # the main worker does not take it

    celery_worker_process(queues="email", extra=["--pool", "threads", "--concurrency", "4", "-n", "mail@%h"])
    deadline = time.monotonic() + 20
    while _statuses(user) != ["sent"] and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _statuses(user) == ["sent"]
