"""Exactly-once settlement when a real Celery worker is SIGKILLed mid-batch and restarted."""

import os
import signal
import time
from decimal import Decimal

import pytest

from betting.models import Bet
from betting.services import LegRequest, bet_place
from betting.tasks import settle_due_bets_task
from edges.models import Sportsbook
from edges.services import event_record_result
from tests.betting.factories import make_game
from tests.betting.helpers import ledger_clean
from tests.conftest import celery_tasks_finished
from tests.factories import UserFactory
from tests.wallet.factories import fund_user
from wallet.models import Transaction
from wallet.selectors import wallet_balances_for_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.celery_worker, pytest.mark.slow]

USERS = 8
BETS_PER_USER = 150
STAKE = 100


def _wait(predicate, timeout=90.0, interval=0.02):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out")


def test_worker_killed_mid_batch_settles_every_bet_once(celery_worker_process):
    game = make_game()
    # 1,200 placements take longer than a quote stays fresh (90 s): keep the book's quotes
    # takeable for the whole setup.
    Sportsbook.objects.filter(key="draftkings").update(freshness_seconds=3600)
    users = [UserFactory() for _ in range(USERS)]
    for user in users:
        fund_user(user, 100_000)
        for index in range(BETS_PER_USER):
            alias = "home_ml" if index % 2 else "away_ml"
            bet_place(
                user=user,
                legs=[LegRequest(game.o(alias).pk, "draftkings", Decimal("1"))],
                stake_minor=STAKE,
                accept_price_change="any",
            )
    total = USERS * BETS_PER_USER
    event_record_result(event_id=game.event.pk, home_score=24, away_score=10)  # home wins at 2.20

    worker = celery_worker_process("settlement")
    settle_due_bets_task.apply_async(kwargs={"batch_size": 40})
    settled_then = _wait(lambda: Bet.objects.exclude(status="pending").count())
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    settled_at_kill = Bet.objects.exclude(status="pending").count()
    assert 0 < settled_then <= settled_at_kill < total, "the kill should land part-way through"
    # Whole batches only: a killed batch rolled back, nothing half-settled.
    assert settled_at_kill % 40 == 0
    assert Transaction.objects.filter(type__in=["BET_PAYOUT", "BET_REFUND"]).count() == settled_at_kill

    celery_worker_process("settlement")
    first = settle_due_bets_task.apply_async(kwargs={"batch_size": 40})  # as beat would, every 30 s
    duplicate = settle_due_bets_task.apply_async(kwargs={"batch_size": 40})  # and a duplicate delivery
    _wait(lambda: not Bet.objects.filter(status="pending").exists())
    _wait(lambda: celery_tasks_finished([first.id, duplicate.id], "settlement"))  # the duplicate ran too

    assert Bet.objects.filter(status="settled").count() == total
    payouts = Transaction.objects.filter(type="BET_PAYOUT")
    assert payouts.count() == total
    assert payouts.values("bet_id").distinct().count() == total
    for user in users:
        balances = wallet_balances_for_user(user=user, currency="USD")
        # 75 winners at 2.20 pay 220 each; 75 losers pay nothing.
        assert balances.held_minor == 0
        assert balances.available_minor == 100_000 - BETS_PER_USER * STAKE + 75 * 220
    assert "ledger_check passed" in ledger_clean()
