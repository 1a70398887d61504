"""The ledger rules hold in PostgreSQL itself: raw SQL cannot break them."""

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from tests.factories import UserFactory
from tests.wallet.factories import fund_user
from wallet.models import Account, LedgerEntry, Transaction

pytestmark = pytest.mark.django_db(transaction=True)


def accounts_of(user):
    return {a.kind: a for a in Account.objects.filter(user=user, currency="USD")}


def test_an_unbalanced_transaction_cannot_commit():
    user = UserFactory()
    fund_user(user, 5_000)
    cash = accounts_of(user)["cash"]
    before = LedgerEntry.objects.count()
    with (
        pytest.raises(IntegrityError, match="unbalanced"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        tx_id = _raw_header(cursor, user)
        cursor.execute(
            "INSERT INTO wallet_ledgerentry (transaction_id, account_id, amount_minor, entry_type, ref_type, ref_id,"
            " created_at) VALUES (%s, %s, 100, 'CREDIT', '', '', now())",
            [tx_id, cash.pk],
        )
    assert LedgerEntry.objects.count() == before
    assert Transaction.objects.filter(type="BONUS").count() == 0


def test_a_balanced_raw_transaction_commits_but_an_unbalanced_currency_pair_does_not():
    user = UserFactory()
    fund_user(user, 5_000)
    fund_user(user, 5_000, currency="EUR")
    usd_cash = Account.objects.get(user=user, kind="cash", currency="USD")
    eur_cash = Account.objects.get(user=user, kind="cash", currency="EUR")
    # +100 USD and -100 EUR sums to zero overall but not per currency: refused.
    with (
        pytest.raises(IntegrityError, match="unbalanced"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        tx_id = _raw_header(cursor, user, "ADJUSTMENT")
        for account, amount in ((usd_cash, 100), (eur_cash, -100)):
            cursor.execute(
                "INSERT INTO wallet_ledgerentry (transaction_id, account_id, amount_minor, entry_type, ref_type,"
                " ref_id, created_at) VALUES (%s, %s, %s, 'CREDIT', '', '', now())",
                [tx_id, account.pk, amount],
            )
    assert Transaction.objects.filter(type="ADJUSTMENT").count() == 0


@pytest.mark.parametrize(
    "statement",
    ["UPDATE wallet_ledgerentry SET amount_minor = amount_minor * 2", "DELETE FROM wallet_ledgerentry"],
)
def test_ledger_entries_cannot_be_updated_or_deleted(statement):
    user = UserFactory()
    fund_user(user, 5_000)
    amounts = sorted(LedgerEntry.objects.values_list("amount_minor", flat=True))
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement)
    assert sorted(LedgerEntry.objects.values_list("amount_minor", flat=True)) == amounts == [-5_000, 5_000]


def test_a_user_cash_balance_cannot_go_negative_even_with_raw_sql():
    user = UserFactory()
    fund_user(user, 5_000)
    with (
        pytest.raises(IntegrityError, match="wallet_account_user_balance_non_negative"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "UPDATE wallet_account SET balance_minor = balance_minor - 5001 WHERE user_id = %s AND kind = 'cash'",
            [user.pk],
        )
    assert accounts_of(user)["cash"].balance_minor == 5_000


def test_a_provider_event_id_is_unique():
    from wallet.models import WebhookEvent

    WebhookEvent.objects.create(provider="sandbox", event_id="evt_1", event_type="payment.succeeded")
    with pytest.raises(IntegrityError), transaction.atomic():
        WebhookEvent.objects.create(provider="sandbox", event_id="evt_1", event_type="payment.succeeded")
    assert WebhookEvent.objects.filter(event_id="evt_1").count() == 1


def test_a_bet_has_at_most_one_transaction_of_each_type():
    from wallet.services import wallet_hold

    user = UserFactory()
    fund_user(user, 5_000)
    wallet_hold(user=user, amount_minor=1_000, currency="USD", bet_id=77)
    with pytest.raises(IntegrityError, match="wallet_transaction_bet_type_unique"), transaction.atomic():
        Transaction.objects.create(user=user, bet_id=77, type="BET_PLACED", status="pending", amount_minor=1)
    assert Transaction.objects.filter(bet_id=77).count() == 1


def test_a_bet_hold_is_closed_at_most_once_refund_or_payout():
    from wallet.services import wallet_hold, wallet_release

    user = UserFactory()
    fund_user(user, 5_000)
    wallet_hold(user=user, amount_minor=1_000, currency="USD", bet_id=78)
    wallet_release(user=user, amount_minor=1_000, currency="USD", bet_id=78)
    with pytest.raises(IntegrityError, match="wallet_transaction_bet_closed_once"), transaction.atomic():
        Transaction.objects.create(user=user, bet_id=78, type="BET_PAYOUT", status="pending", amount_minor=0)
    assert list(Transaction.objects.filter(bet_id=78).order_by("id").values_list("type", flat=True)) == [
        "BET_PLACED",
        "BET_REFUND",
    ]


def test_service_calls_outside_a_transaction_commit_one_statement_with_their_event(monkeypatch):
    """In autocommit a hold or release is one statement (its own transaction): the booking,
    the balances and the outbox event commit together, and the relay is nudged once each."""
    from betthat.core import outbox
    from betthat.core.models import OutboxEvent
    from wallet.services import wallet_capture, wallet_hold, wallet_release

    nudged = []
    monkeypatch.setattr(outbox, "_nudge_relay", lambda: nudged.append(1))
    user = UserFactory()
    fund_user(user, 5_000)
    nudged.clear()
    hold = wallet_hold(user=user, amount_minor=1_200, currency="USD", bet_id=79)
    release = wallet_release(user=user, amount_minor=1_200, currency="USD", bet_id=79)
    wallet_hold(user=user, amount_minor=300, currency="USD", bet_id=80)
    capture = wallet_capture(user=user, stake_minor=300, payout_minor=650, currency="USD", bet_id=80)
    assert len(nudged) == 4
    events = {
        e.payload["transaction_id"]: e.payload
        for e in OutboxEvent.objects.filter(
            event_type="wallet.transaction.completed", payload__bet_id__in=[79, 80]
        )
    }
    assert events[hold.pk] == {
        "transaction_id": hold.pk,
        "user_id": user.pk,
        "type": "BET_PLACED",
        "amount": "12.00",
        "currency": "USD",
        "bet_id": 79,
    }
    assert events[release.pk]["type"] == "BET_REFUND" and events[release.pk]["amount"] == "12.00"
    assert events[capture.pk]["type"] == "BET_PAYOUT" and events[capture.pk]["amount"] == "6.50"
    assert Transaction.objects.get(pk=capture.pk).amount_minor == 650
    cash = accounts_of(user)["cash"]
    assert (cash.balance_minor, accounts_of(user)["holds"].balance_minor) == (5_000 - 300 + 650, 0)
    assert sorted(
        LedgerEntry.objects.filter(transaction_id=capture.pk).values_list("amount_minor", flat=True)
    ) == [
        -650,
        -300,
        300,
        650,
    ]


def _entry(cursor, tx_id, account_id, amount):
    cursor.execute(
        "INSERT INTO wallet_ledgerentry (transaction_id, account_id, amount_minor, entry_type, ref_type, ref_id,"
        " created_at) VALUES (%s, %s, %s, 'CREDIT', '', '', now())",
        [tx_id, account_id, amount],
    )


def _raw_header(cursor, user, kind="BONUS"):
    """A completed 100-minor USD transaction header written with raw SQL (no entries yet)."""
    cursor.execute(
        "INSERT INTO wallet_transaction (user_id, type, status, currency, amount_minor, fee_minor, sportsbook_id,"
        " processing_attempts, last_error, external_reference, idempotency_key, reason, created_at, updated_at)"
        " VALUES (%s, %s, 'completed', 'USD', 100, 0, '', 0, '', '', '', '', now(), now()) RETURNING id",
        [user.pk, kind],
    )
    return cursor.fetchone()[0]


def test_an_entry_added_after_an_early_check_is_checked_again():
    """The trigger checks a journal transaction once per firing; an entry inserted after that
    check (here after SET CONSTRAINTS ALL IMMEDIATE) is checked again at commit."""
    user = UserFactory()
    fund_user(user, 5_000)
    mine = accounts_of(user)
    house = Account.objects.get(user__isnull=True, kind="house", currency="USD")
    before = (LedgerEntry.objects.count(), mine["cash"].balance_minor)
    with (
        pytest.raises(IntegrityError, match="unbalanced"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        tx_id = _raw_header(cursor, user)
        _entry(cursor, tx_id, house.pk, -100)
        _entry(cursor, tx_id, mine["cash"].pk, 100)
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # balanced: passes, and is remembered
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        _entry(cursor, tx_id, mine["cash"].pk, 50)  # unbalances it after the check
    assert (LedgerEntry.objects.count(), accounts_of(user)["cash"].balance_minor) == before


def test_balanced_multi_entry_transactions_commit_and_each_is_checked():
    user = UserFactory()
    fund_user(user, 5_000)
    cash = accounts_of(user)["cash"]
    house = Account.objects.get(user__isnull=True, kind="house", currency="USD")
    with transaction.atomic(), connection.cursor() as cursor:
        first = _raw_header(cursor, user)
        for amount in (-60, -40, 70, 30):
            _entry(cursor, first, house.pk if amount < 0 else cash.pk, amount)
        second = _raw_header(cursor, user)
        _entry(cursor, second, house.pk, -10)
        _entry(cursor, second, cash.pk, 10)
    assert LedgerEntry.objects.filter(transaction_id__in=[first, second]).count() == 6
    with (
        pytest.raises(IntegrityError, match=r"unbalanced"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        third = _raw_header(cursor, user)
        _entry(cursor, third, house.pk, -10)
        _entry(cursor, third, cash.pk, 10)
        fourth = _raw_header(cursor, user)
        _entry(cursor, fourth, house.pk, -10)
        _entry(cursor, fourth, cash.pk, 9)
    assert not LedgerEntry.objects.filter(transaction_id__in=[third, fourth]).exists()
