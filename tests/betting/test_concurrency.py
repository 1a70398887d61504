"""100 concurrent placements from one wallet, from threads with their own connections:
never an overdraft, never past a limit."""

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
from django.db import connection

from betthat.core.errors import ApplicationError
from betting.models import Bet
from betting.services import LegRequest, bet_place
from tests.betting.factories import make_game
from tests.betting.helpers import ledger_clean
from tests.wallet.factories import fund_user
from wallet.selectors import wallet_balances_for_user

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

ATTEMPTS = 100
THREADS = 16


def _storm(user, outcome_id, stake_minor):
    def attempt(_):
        try:
            bet_place(
                user=user,
                legs=[LegRequest(outcome_id, "draftkings", Decimal("2.2"))],
                stake_minor=stake_minor,
                accept_price_change="any",
            )
            return "ok"
        except ApplicationError as error:
            return error.code
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(attempt, range(ATTEMPTS)))


def test_concurrent_placements_never_overdraw(user):
    game = make_game()
    fund_user(user, 5000)  # 50.00: room for exactly 50 bets of 1.00
    outcomes = _storm(user, game.o("home_ml").pk, 100)
    assert outcomes.count("ok") == 50
    assert outcomes.count("insufficient_funds") == 50
    balances = wallet_balances_for_user(user=user, currency="USD")
    assert (balances.available_minor, balances.held_minor) == (0, 5000)
    assert Bet.objects.filter(user=user).count() == 50
    assert "ledger_check passed" in ledger_clean()


def test_concurrent_placements_never_pass_the_daily_limit(user):
    game = make_game()
    fund_user(user, 100_000)
    user.daily_bet_limit = Decimal("30.00")
    user.save()
    outcomes = _storm(user, game.o("home_ml").pk, 100)
    assert outcomes.count("ok") == 30
    assert outcomes.count("limit_exceeded") == 70
    assert sum(Bet.objects.filter(user=user).values_list("stake_minor", flat=True)) == 3000
    balances = wallet_balances_for_user(user=user, currency="USD")
    assert (balances.available_minor, balances.held_minor) == (97000, 3000)
    assert "ledger_check passed" in ledger_clean()
