"""wallet_capture_many / wallet_release_many: the batch booking settlement uses."""

import pytest
from django.db import DatabaseError, connection, transaction

from betthat.core.errors import ApplicationError
from betthat.core.models import OutboxEvent
from tests.factories import UserFactory
from tests.wallet.factories import fund_user
from wallet.health import ledger_report
from wallet.models import Account, LedgerEntry, Transaction
from wallet.selectors import wallet_balances_for_user
from wallet.services import (
    CaptureSpec,
    ReleaseSpec,
    wallet_capture,
    wallet_capture_many,
    wallet_hold,
    wallet_release,
    wallet_release_many,
)

pytestmark = pytest.mark.django_db


def check_deferred_constraints():
    """Fire the deferred balanced-transaction trigger now (the test never commits)."""
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def balances(user):
    b = wallet_balances_for_user(user=user, currency="USD")
    return (b.available_minor, b.held_minor, b.total_minor)


def house():
    return Account.objects.get(user__isnull=True, kind="house", currency="USD").balance_minor


def snapshot():
    return (
        Transaction.objects.count(),
        LedgerEntry.objects.count(),
        OutboxEvent.objects.count(),
        list(Account.objects.order_by("pk").values_list("balance_minor", flat=True)),
    )


@pytest.fixture
def bettors():
    alice, bob = UserFactory(), UserFactory()
    fund_user(alice, 10_000)
    fund_user(bob, 10_000)
    for bet_id, user, stake in ((101, alice, 1_000), (102, alice, 2_000), (103, bob, 3_000), (104, bob, 500)):
        wallet_hold(user=user, amount_minor=stake, currency="USD", bet_id=bet_id)
    return alice, bob


def test_capture_many_books_each_bet_balanced_with_the_single_path_entries(bettors):
    alice, bob = bettors
    house_before = house()
    events_before = OutboxEvent.objects.filter(event_type="wallet.transaction.completed").count()
    txs = wallet_capture_many(
        captures=[
            CaptureSpec(user_id=alice.pk, bet_id=101, stake_minor=1_000, payout_minor=2_500),
            CaptureSpec(user_id=alice.pk, bet_id=102, stake_minor=2_000, payout_minor=0),
            CaptureSpec(user_id=bob.pk, bet_id=103, stake_minor=3_000, payout_minor=3_000),
        ],
        currency="USD",
    )
    check_deferred_constraints()
    assert [tx.bet_id for tx in txs] == [101, 102, 103]
    assert [tx.amount_minor for tx in txs] == [2_500, 0, 3_000]
    stored = {tx.bet_id: tx for tx in Transaction.objects.filter(type="BET_PAYOUT")}
    assert sorted(stored) == [101, 102, 103]
    assert [stored[tx.bet_id].pk for tx in txs] == [tx.pk for tx in txs]
    assert stored[101].user_id == alice.pk and stored[103].user_id == bob.pk
    assert stored[101].status == "completed" and stored[101].completed_at is not None
    # The same entries as wallet_capture books, each transaction summing to zero.
    assert sorted(stored[101].entries.values_list("amount_minor", flat=True)) == [
        -2_500,
        -1_000,
        1_000,
        2_500,
    ]
    assert sorted(stored[102].entries.values_list("amount_minor", flat=True)) == [-2_000, 2_000]
    for tx in stored.values():
        assert sum(tx.entries.values_list("amount_minor", flat=True)) == 0
        assert set(tx.entries.values_list("ref_type", "ref_id")) == {("bet", str(tx.bet_id))}
    assert {
        e.account.user_id for e in stored[103].entries.select_related("account") if e.account.kind != "house"
    } == {bob.pk}
    assert balances(alice) == (7_000 + 2_500, 0, 9_500)
    assert balances(bob) == (6_500 + 3_000, 500, 10_000)
    assert house() == house_before + 1_000 + 2_000 + 3_000 - 2_500 - 3_000
    published = OutboxEvent.objects.filter(event_type="wallet.transaction.completed").order_by("id")
    assert published.count() == events_before + 3
    assert [e.payload["bet_id"] for e in published][-3:] == [101, 102, 103]
    assert published.last().payload["amount"] == "30.00"
    assert ledger_report().ok


def test_second_capture_of_a_bet_is_refused_and_changes_nothing(bettors):
    alice, bob = bettors
    wallet_capture_many(
        captures=[CaptureSpec(user_id=alice.pk, bet_id=101, stake_minor=1_000, payout_minor=1_900)],
        currency="USD",
    )
    before = snapshot()
    attempts = [
        lambda: wallet_capture_many(
            captures=[
                CaptureSpec(user_id=bob.pk, bet_id=103, stake_minor=3_000, payout_minor=0),
                CaptureSpec(user_id=alice.pk, bet_id=101, stake_minor=1_000, payout_minor=1_900),
            ],
            currency="USD",
        ),
        lambda: wallet_capture(user=alice, stake_minor=1_000, payout_minor=1_900, currency="USD", bet_id=101),
        lambda: wallet_release(user=alice, amount_minor=1_000, currency="USD", bet_id=101),
        lambda: wallet_release_many(
            releases=[ReleaseSpec(user_id=alice.pk, bet_id=101, amount_minor=1_000)], currency="USD"
        ),
    ]
    for attempt in attempts:
        with pytest.raises(ApplicationError) as error:
            attempt()
        assert error.value.code == "conflict"
        assert snapshot() == before
    assert Transaction.objects.filter(bet_id=101, type="BET_PAYOUT").count() == 1
    assert Transaction.objects.filter(bet_id=103, type="BET_PAYOUT").count() == 0
    assert balances(bob) == (6_500, 3_500, 10_000)


def test_batch_capture_after_a_single_capture_is_refused(bettors):
    alice, _bob = bettors
    wallet_capture(user=alice, stake_minor=2_000, payout_minor=0, currency="USD", bet_id=102)
    before = snapshot()
    with pytest.raises(ApplicationError) as error:
        wallet_capture_many(
            captures=[CaptureSpec(user_id=alice.pk, bet_id=102, stake_minor=2_000, payout_minor=0)],
            currency="USD",
        )
    assert error.value.code == "conflict"
    assert snapshot() == before


def test_release_many_returns_each_stake_once(bettors):
    alice, bob = bettors
    txs = wallet_release_many(
        releases=[
            ReleaseSpec(user_id=alice.pk, bet_id=102, amount_minor=2_000),
            ReleaseSpec(user_id=bob.pk, bet_id=104, amount_minor=500),
        ],
        currency="USD",
    )
    check_deferred_constraints()
    assert [(tx.type, tx.bet_id, tx.amount_minor) for tx in txs] == [
        ("BET_REFUND", 102, 2_000),
        ("BET_REFUND", 104, 500),
    ]
    assert balances(alice) == (9_000, 1_000, 10_000)
    assert balances(bob) == (7_000, 3_000, 10_000)
    before = snapshot()
    with pytest.raises(ApplicationError) as error:
        wallet_release_many(
            releases=[ReleaseSpec(user_id=bob.pk, bet_id=104, amount_minor=500)], currency="USD"
        )
    assert error.value.code == "conflict"
    assert snapshot() == before
    assert ledger_report().ok


def test_batch_refusals_change_nothing(bettors):
    alice, bob = bettors
    before = snapshot()
    cases = [
        # bob's bet captured as alice's: no such hold for her
        ([CaptureSpec(user_id=alice.pk, bet_id=103, stake_minor=3_000, payout_minor=0)], "not_found"),
        # more than the stake held
        ([CaptureSpec(user_id=alice.pk, bet_id=101, stake_minor=1_001, payout_minor=0)], "invalid_amount"),
        # a bet that was never placed
        ([CaptureSpec(user_id=alice.pk, bet_id=999, stake_minor=100, payout_minor=0)], "not_found"),
        ([CaptureSpec(user_id=alice.pk, bet_id=101, stake_minor=0, payout_minor=0)], "invalid_amount"),
    ]
    for captures, code in cases:
        with pytest.raises(ApplicationError) as error:
            wallet_capture_many(captures=captures, currency="USD")
        assert error.value.code == code
        assert snapshot() == before
    with pytest.raises(ValueError):
        wallet_capture_many(
            captures=[CaptureSpec(user_id=alice.pk, bet_id=101, stake_minor=1_000, payout_minor=0)] * 2,
            currency="USD",
        )
    assert snapshot() == before
    assert wallet_capture_many(captures=[], currency="USD") == []
    assert balances(alice) == (7_000, 3_000, 10_000) and balances(bob) == (6_500, 3_500, 10_000)


def test_unbalanced_batch_entries_fail_in_the_database(bettors):
    """The deferred trigger still guards every transaction a batch writes."""
    alice, _bob = bettors
    wallet_capture_many(
        captures=[CaptureSpec(user_id=alice.pk, bet_id=101, stake_minor=1_000, payout_minor=0)],
        currency="USD",
    )
    tx = Transaction.objects.get(bet_id=101, type="BET_PAYOUT")
    account = Account.objects.get(user=alice, kind="cash", currency="USD")
    with pytest.raises(DatabaseError, match="unbalanced"), transaction.atomic():
        LedgerEntry.objects.create(transaction=tx, account=account, amount_minor=1, entry_type="CREDIT")
        check_deferred_constraints()
