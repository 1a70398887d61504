from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from betthat.core.errors import ApplicationError
from betthat.core.models import OutboxEvent
from tests.factories import UserFactory
from tests.wallet.factories import fund_user
from wallet.health import ledger_report
from wallet.models import DepositLimit, LedgerEntry, Payment, Transaction
from wallet.providers import sandbox
from wallet.selectors import deposit_limits_for_user, wallet_balances_for_user
from wallet.services import (
    deposit_limit_set,
    wallet_adjust,
    wallet_bonus,
    wallet_capture,
    wallet_deposit_start,
    wallet_fee,
    wallet_hold,
    wallet_release,
    wallet_withdraw,
)

pytestmark = pytest.mark.django_db


def check_deferred_constraints():
    """Fire the deferred balanced-transaction trigger now (the test never commits)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def balances(user, currency="USD"):
    b = wallet_balances_for_user(user=user, currency=currency)
    return (b.available_minor, b.held_minor, b.total_minor)


def snapshot():
    return (
        Transaction.objects.count(),
        LedgerEntry.objects.count(),
        Payment.objects.count(),
        OutboxEvent.objects.count(),
    )


def test_fund_hold_capture_win_pays_from_the_house():
    user = UserFactory()
    fund_user(user, 10_000)
    assert balances(user) == (10_000, 0, 10_000)
    wallet_hold(user=user, amount_minor=2_500, currency="USD", bet_id=1, sportsbook_id="draftkings")
    assert balances(user) == (7_500, 2_500, 10_000)
    tx = wallet_capture(user=user, stake_minor=2_500, payout_minor=5_000, currency="USD", bet_id=1)
    check_deferred_constraints()
    assert balances(user) == (12_500, 0, 12_500)
    assert tx.type == "BET_PAYOUT" and tx.status == "completed"
    assert sorted(tx.entries.values_list("amount_minor", flat=True)) == [-5_000, -2_500, 2_500, 5_000]
    assert ledger_report().ok


def test_a_lost_bet_moves_the_stake_to_the_house_and_pays_nothing():
    user = UserFactory()
    fund_user(user, 10_000)
    wallet_hold(user=user, amount_minor=4_000, currency="USD", bet_id=2)
    tx = wallet_capture(user=user, stake_minor=4_000, payout_minor=0, currency="USD", bet_id=2)
    assert balances(user) == (6_000, 0, 6_000)
    assert tx.entries.count() == 2


def test_release_returns_the_stake_once():
    user = UserFactory()
    fund_user(user, 10_000)
    wallet_hold(user=user, amount_minor=3_000, currency="USD", bet_id=3)
    wallet_release(user=user, amount_minor=3_000, currency="USD", bet_id=3)
    assert balances(user) == (10_000, 0, 10_000)
    before = snapshot()
    for attempt in (
        lambda: wallet_release(user=user, amount_minor=3_000, currency="USD", bet_id=3),
        lambda: wallet_capture(user=user, stake_minor=3_000, payout_minor=0, currency="USD", bet_id=3),
    ):
        with pytest.raises(ApplicationError) as error:
            attempt()
        assert error.value.code == "conflict"
    assert snapshot() == before and balances(user) == (10_000, 0, 10_000)


def test_hold_refused_when_short_changes_nothing():
    user = UserFactory()
    fund_user(user, 1_000)
    before = snapshot()
    with pytest.raises(ApplicationError) as error:
        wallet_hold(user=user, amount_minor=1_001, currency="USD", bet_id=4)
    assert error.value.code == "insufficient_funds" and error.value.status == 409
    assert error.value.details["available"] == "10.00"
    assert snapshot() == before and balances(user) == (1_000, 0, 1_000)


def test_a_second_hold_for_the_same_bet_is_a_conflict():
    user = UserFactory()
    fund_user(user, 10_000)
    wallet_hold(user=user, amount_minor=1_000, currency="USD", bet_id=5)
    with pytest.raises(ApplicationError) as error:
        wallet_hold(user=user, amount_minor=1_000, currency="USD", bet_id=5)
    assert error.value.code == "conflict"
    assert balances(user) == (9_000, 1_000, 10_000)


def test_cannot_release_or_capture_another_users_or_a_larger_stake():
    alice, bob = UserFactory(), UserFactory()
    fund_user(alice, 10_000)
    fund_user(bob, 10_000)
    wallet_hold(user=alice, amount_minor=1_000, currency="USD", bet_id=6)
    with pytest.raises(ApplicationError) as error:
        wallet_release(user=bob, amount_minor=1_000, currency="USD", bet_id=6)
    assert error.value.code == "not_found"
    with pytest.raises(ApplicationError) as error:
        wallet_capture(user=alice, stake_minor=1_001, payout_minor=0, currency="USD", bet_id=6)
    assert error.value.code == "invalid_amount"
    assert balances(alice) == (9_000, 1_000, 10_000) and balances(bob) == (10_000, 0, 10_000)


@pytest.mark.parametrize("amount", [0, -5, 10_000_000_001, "12", 1.5, True])
def test_invalid_amounts_are_refused(amount):
    user = UserFactory()
    with pytest.raises(ApplicationError) as error:
        wallet_hold(user=user, amount_minor=amount, currency="USD")
    assert error.value.code == "invalid_amount"
    assert Transaction.objects.count() == 0


def test_bonus_fee_and_staff_adjustment():
    from django.contrib.auth.models import Permission

    user, staff = UserFactory(), UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="adjust_account"))
    wallet_bonus(user=user, amount_minor=2_000, reason="welcome")
    wallet_fee(user=user, amount_minor=150, reason="processing fee")
    tx = wallet_adjust(user=user, amount_minor=-350, reason="duplicate bonus", staff=staff).transaction
    check_deferred_constraints()
    assert balances(user) == (1_500, 0, 1_500)
    assert tx.created_by == staff and tx.reason == "duplicate bonus" and tx.type == "ADJUSTMENT"
    with pytest.raises(ApplicationError) as error:
        wallet_adjust(user=user, amount_minor=100, reason="because", staff=user)
    assert error.value.code == "permission_denied"
    with pytest.raises(ApplicationError) as error:
        wallet_adjust(user=user, amount_minor=100, reason="  ", staff=staff)
    assert error.value.code == "validation_error"
    with pytest.raises(ApplicationError) as error:
        wallet_fee(user=user, amount_minor=1_501)
    assert error.value.code == "insufficient_funds"
    assert balances(user) == (1_500, 0, 1_500)


def test_deposit_credits_only_when_the_provider_confirms():
    user = UserFactory()
    payment = wallet_deposit_start(user=user, amount_minor=5_000, provider="sandbox")
    assert payment.status == "pending" and payment.checkout_url.endswith(
        f"/wallet/sandbox/checkout/{payment.pk}/"
    )
    assert balances(user) == (0, 0, 0)
    sandbox.deliver(sandbox.build_events(payment, outcome="succeeded"))
    payment.refresh_from_db()
    assert payment.status == "succeeded" and balances(user) == (5_000, 0, 5_000)
    assert set(OutboxEvent.objects.values_list("event_type", flat=True)) == {
        "payments.succeeded",
        "wallet.transaction.completed",
    }


def test_a_declined_deposit_credits_nothing_and_publishes_failure():
    user = UserFactory()
    payment = wallet_deposit_start(user=user, amount_minor=5_000, provider="sandbox")
    sandbox.deliver(sandbox.build_events(payment, outcome="failed", reason="card declined"))
    payment.refresh_from_db()
    assert payment.status == "failed" and payment.failure_reason == "card declined"
    assert balances(user) == (0, 0, 0)
    assert Transaction.objects.get(payment=payment).status == "failed"
    assert list(OutboxEvent.objects.values_list("event_type", flat=True)) == ["payments.failed"]


def test_withdrawal_holds_then_pays_out_or_releases():
    user = UserFactory()
    fund_user(user, 10_000)
    paid = wallet_withdraw(user=user, amount_minor=3_000)
    assert balances(user) == (7_000, 3_000, 10_000)
    sandbox.deliver(sandbox.build_events(paid, outcome="succeeded"))
    assert balances(user) == (7_000, 0, 7_000)
    declined = wallet_withdraw(user=user, amount_minor=2_013)
    assert balances(user) == (4_987, 2_013, 7_000)
    sandbox.deliver(sandbox.build_events(declined, outcome="failed", reason="bank said no"))
    assert balances(user) == (7_000, 0, 7_000)
    check_deferred_constraints()
    assert ledger_report().ok
    with pytest.raises(ApplicationError) as error:
        wallet_withdraw(user=user, amount_minor=7_001)
    assert error.value.code == "insufficient_funds"
    assert balances(user) == (7_000, 0, 7_000)


def test_self_excluded_and_suspended_users_cannot_deposit():
    excluded = UserFactory(self_excluded_until=timezone.now() + timedelta(days=30))
    suspended = UserFactory(status="suspended")
    for user, code, status in ((excluded, "self_excluded", 403), (suspended, "account_suspended", 403)):
        with pytest.raises(ApplicationError) as error:
            wallet_deposit_start(user=user, amount_minor=1_000)
        assert (error.value.code, error.value.status) == (code, status)
    assert Payment.objects.count() == 0


def test_deposit_limits_lower_at_once_raise_after_cooling_off():
    user = UserFactory()
    deposit_limit_set(user=user, period="day", amount_minor=10_000)
    fund_user(user, 6_000)
    with pytest.raises(ApplicationError) as error:
        wallet_deposit_start(user=user, amount_minor=4_001)
    assert error.value.code == "limit_exceeded" and error.value.details["remaining"] == "40.00"
    # Raising waits 24 hours; the old limit stays in force meanwhile.
    limit = deposit_limit_set(user=user, period="day", amount_minor=50_000)
    assert limit.amount_minor == 10_000 and limit.pending_amount_minor == 50_000
    with pytest.raises(ApplicationError):
        wallet_deposit_start(user=user, amount_minor=4_001)
    DepositLimit.objects.filter(pk=limit.pk).update(
        pending_effective_at=timezone.now() - timedelta(seconds=1)
    )
    assert wallet_deposit_start(user=user, amount_minor=4_001).status == "pending"
    # Lowering applies at once and cancels nothing already deposited.
    limit = deposit_limit_set(user=user, period="week", amount_minor=5_000)
    assert limit.amount_minor == 5_000 and limit.pending_effective_at is None
    with pytest.raises(ApplicationError) as error:
        wallet_deposit_start(user=user, amount_minor=100)
    assert error.value.details["period"] == "week"
    # Removing a limit is a raise: it waits for the cooling-off too.
    limit = deposit_limit_set(user=user, period="week", amount_minor=None)
    assert limit.amount_minor == 5_000 and limit.pending_is_removal


def test_prune_keeps_keys_for_24_hours():
    from wallet.models import IdempotencyKey
    from wallet.tasks import prune_idempotency_keys_task

    user = UserFactory()
    old = IdempotencyKey.objects.create(user=user, key="old", scope="s", fingerprint="f", status_code=201)
    IdempotencyKey.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))
    IdempotencyKey.objects.create(user=user, key="new", scope="s", fingerprint="f", status_code=201)
    IdempotencyKey.objects.create(user=user, key="23h", scope="s", fingerprint="f", status_code=201)
    IdempotencyKey.objects.filter(key="23h").update(created_at=timezone.now() - timedelta(hours=23))
    assert prune_idempotency_keys_task() == 1
    assert sorted(IdempotencyKey.objects.values_list("key", flat=True)) == ["23h", "new"]


def test_deposit_limits_count_deposits_in_every_currency(settings):
    """Issue 18 item 6: a USD limit counts EUR and GBP deposits at the rates betting's limits
    use (BETTING_FX_RATES), rounded up; the limit's own currency is what the answer reports."""
    settings.BETTING_FX_RATES = {"USD": "1.00", "EUR": "1.08", "GBP": "1.27"}
    user = UserFactory()
    deposit_limit_set(user=user, period="day", amount_minor=10_000, currency="USD")
    fund_user(user, 5_000, currency="EUR")  # 54.00 USD
    fund_user(user, 2_000, currency="GBP")  # 25.40 USD
    before = Payment.objects.count()
    # 79.40 used: 20.60 USD of room, so 19.08 EUR (20.6064 USD) is over by a fraction of a cent.
    with pytest.raises(ApplicationError) as error:
        wallet_deposit_start(user=user, amount_minor=1_908, currency="EUR")
    assert error.value.code == "limit_exceeded"
    assert (error.value.details["currency"], error.value.details["used"]) == ("USD", "79.40")
    assert error.value.details["remaining"] == "20.60"
    assert Payment.objects.count() == before
    assert wallet_deposit_start(user=user, amount_minor=1_907, currency="EUR").status == "pending"
    # The page and the API show the same cross-currency total.
    day = next(v for v in deposit_limits_for_user(user=user, currency="USD") if v.period == "day")
    assert day.used_minor == 5_400 + 2_540 + 2_060  # 19.07 EUR = 20.5956 USD, rounded up


def test_a_limit_in_another_currency_counts_usd_deposits(settings):
    settings.BETTING_FX_RATES = {"USD": "1.00", "EUR": "1.08", "GBP": "1.27"}
    user = UserFactory()
    deposit_limit_set(user=user, period="week", amount_minor=5_000, currency="EUR")
    fund_user(user, 5_000, currency="USD")  # 46.2963 EUR, counted as 46.30
    with pytest.raises(ApplicationError) as error:
        wallet_deposit_start(user=user, amount_minor=400, currency="EUR")
    assert (error.value.details["currency"], error.value.details["used"]) == ("EUR", "46.30")
    assert wallet_deposit_start(user=user, amount_minor=370, currency="EUR").status == "pending"
