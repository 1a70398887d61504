"""A Hypothesis state machine: random sequences of wallet operations against a simple model,
with every ledger invariant checked after every step (in the real PostgreSQL)."""

import itertools

import pytest
from django.db import connection
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from betthat.core.errors import ApplicationError
from tests.factories import UserFactory
from wallet.health import ledger_report
from wallet.models import Payment
from wallet.providers import sandbox
from wallet.selectors import wallet_balances_for_user
from wallet.services import wallet_capture, wallet_deposit_start, wallet_hold, wallet_release, wallet_withdraw

pytestmark = [pytest.mark.django_db, pytest.mark.slow]
amounts = st.integers(min_value=1, max_value=50_000)
bet_ids = itertools.count(10_000_000)


class WalletMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.user = UserFactory()
        self.available = 0
        self.held = 0
        self.open_bets: dict[int, int] = {}
        self.open_deposits: list[Payment] = []
        self.open_withdrawals: list[Payment] = []
        self.delivered: list[list[dict]] = []

    @rule(amount=amounts)
    def start_deposit(self, amount):
        self.open_deposits.append(
            wallet_deposit_start(user=self.user, amount_minor=amount, provider="sandbox")
        )

    @precondition(lambda self: self.open_deposits)
    @rule(data=st.data(), succeed=st.booleans(), out_of_order=st.booleans())
    def confirm_deposit(self, data, succeed, out_of_order):
        payment = self.open_deposits.pop(data.draw(st.integers(0, len(self.open_deposits) - 1)))
        plan = sandbox.delivery_plan(
            sandbox.build_events(payment, outcome="succeeded" if succeed else "failed"),
            duplicates=data.draw(st.integers(1, 3)),
            out_of_order=out_of_order,
        )
        sandbox.deliver(plan)
        self.delivered.append(plan)
        if succeed:
            self.available += payment.amount_minor

    @rule(amount=amounts)
    def withdraw(self, amount):
        try:
            payment = wallet_withdraw(user=self.user, amount_minor=amount)
        except ApplicationError as error:
            assert error.code == "insufficient_funds" and amount > self.available
            return
        assert amount <= self.available
        self.available -= amount
        self.held += amount
        self.open_withdrawals.append(payment)

    @precondition(lambda self: self.open_withdrawals)
    @rule(data=st.data(), succeed=st.booleans())
    def answer_withdrawal(self, data, succeed):
        payment = self.open_withdrawals.pop(data.draw(st.integers(0, len(self.open_withdrawals) - 1)))
        plan = sandbox.build_events(payment, outcome="succeeded" if succeed else "failed")
        sandbox.deliver(plan)
        self.delivered.append(plan)
        self.held -= payment.amount_minor
        if not succeed:
            self.available += payment.amount_minor

    @rule(amount=amounts)
    def hold(self, amount):
        bet_id = next(bet_ids)
        try:
            wallet_hold(user=self.user, amount_minor=amount, currency="USD", bet_id=bet_id)
        except ApplicationError as error:
            assert error.code == "insufficient_funds" and amount > self.available
            return
        self.available -= amount
        self.held += amount
        self.open_bets[bet_id] = amount

    @precondition(lambda self: self.open_bets)
    @rule(data=st.data())
    def release(self, data):
        bet_id = data.draw(st.sampled_from(sorted(self.open_bets)))
        amount = self.open_bets.pop(bet_id)
        wallet_release(user=self.user, amount_minor=amount, currency="USD", bet_id=bet_id)
        self.available += amount
        self.held -= amount

    @precondition(lambda self: self.open_bets)
    @rule(data=st.data(), payout_factor=st.sampled_from([0, 1, 2, 3]))
    def capture(self, data, payout_factor):
        bet_id = data.draw(st.sampled_from(sorted(self.open_bets)))
        stake = self.open_bets.pop(bet_id)
        wallet_capture(
            user=self.user,
            stake_minor=stake,
            payout_minor=stake * payout_factor,
            currency="USD",
            bet_id=bet_id,
        )
        self.held -= stake
        self.available += stake * payout_factor

    @precondition(lambda self: self.delivered)
    @rule(data=st.data())
    def replay_webhooks(self, data):
        """A provider re-sends an old batch: nothing may change."""
        sandbox.deliver(data.draw(st.sampled_from(self.delivered)))

    @precondition(lambda self: self.open_bets)
    @rule(data=st.data())
    def settle_twice_is_refused(self, data):
        bet_id = data.draw(st.sampled_from(sorted(self.open_bets)))
        stake = self.open_bets[bet_id]
        wallet_release(user=self.user, amount_minor=stake, currency="USD", bet_id=bet_id)
        with pytest.raises(ApplicationError) as error:
            wallet_capture(
                user=self.user, stake_minor=stake, payout_minor=stake, currency="USD", bet_id=bet_id
            )
        assert error.value.code == "conflict"
        del self.open_bets[bet_id]
        self.available += stake
        self.held -= stake

    @invariant()
    def balances_match_the_model(self):
        balances = wallet_balances_for_user(user=self.user)
        assert (balances.available_minor, balances.held_minor) == (self.available, self.held)
        assert self.available >= 0 and self.held >= 0

    @invariant()
    def ledger_invariants_hold(self):
        with connection.cursor() as cursor:  # fire the deferred balance trigger now
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        report = ledger_report()
        assert report.ok, "\n".join(report.lines())


def test_wallet_state_machine():
    run_state_machine_as_test(
        WalletMachine,
        settings=settings(
            max_examples=25,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )
