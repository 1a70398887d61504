"""A frozen account's cash is never debited: the ledger trigger (wallet migration 0007)
refuses it whatever writes the entry; settlement, reversals and staff adjustments still book."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from betthat.core.errors import ApplicationError
from betthat.users.models import User
from betthat.users.services import user_freeze, user_unfreeze
from betting.models import Bet
from betting.services import bet_settle
from tests.betting.helpers import ledger_clean, leg, place, state
from tests.factories import UserFactory
from wallet.ledger import Leg, book
from wallet.models import Transaction
from wallet.selectors import wallet_balances_for_user
from wallet.services import wallet_adjust, wallet_fee, wallet_withdraw


def _freeze(user):
    staff = UserFactory(is_staff=True, is_superuser=True)
    return user_freeze(user=user, actor=staff, reason="suspected stolen card")


def test_a_frozen_user_cannot_bet_and_nothing_moves(funded_user, game):
    _freeze(funded_user)
    before = state(funded_user)
    with pytest.raises(ApplicationError) as refused:
        place(funded_user, leg(game.o("home_ml")), stake=1_000)
    assert (refused.value.code, refused.value.status) == ("account_frozen", 403)
    assert state(funded_user) == before


def test_the_bet_reservation_function_itself_refuses_a_frozen_user(funded_user, game):
    """The database refuses even when no Python check sees the freeze: the service is given
    a stale user object, and the reservation function's hold meets the ledger trigger."""
    stale = User.objects.get(pk=funded_user.pk)
    _freeze(funded_user)
    assert stale.frozen_at is None
    before = state(funded_user)
    with pytest.raises(ApplicationError) as refused:
        place(stale, leg(game.o("home_ml")), stake=1_000)
    assert refused.value.code == "account_frozen"
    assert state(funded_user) == before


def test_the_ledger_refuses_any_debit_of_frozen_cash(funded_user):
    _freeze(funded_user)
    with pytest.raises(ApplicationError) as refused:
        wallet_fee(user=funded_user, amount_minor=100, currency="USD", reason="monthly fee")
    assert refused.value.code == "account_frozen"
    with pytest.raises(ApplicationError) as refused_book, transaction.atomic():
        book(
            user_id=funded_user.pk,
            currency="USD",
            legs=[Leg("cash", -500, "DEBIT"), Leg("psp_clearing", 500, "CREDIT")],
            type=Transaction.Type.WITHDRAWAL,
            amount_minor=500,
        )
    assert refused_book.value.code == "account_frozen"
    # Raw SQL meets the same trigger: the refusal lives in the database, not in the services.
    with pytest.raises(DatabaseError) as raw, transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO wallet_transaction (user_id, currency, created_at, updated_at, type, status,"
            " amount_minor, fee_minor, sportsbook_id, processing_attempts, last_error,"
            " external_reference, idempotency_key, reason)"
            " VALUES (%s, 'USD', now(), now(), 'FEE', 'completed', 100, 0, '', 0, '', '', '', '')"
            " RETURNING id",
            [funded_user.pk],
        )
        (tx_id,) = cursor.fetchone()
        cursor.execute(
            "INSERT INTO wallet_ledgerentry (transaction_id, account_id, amount_minor, entry_type,"
            " ref_type, ref_id, created_at)"
            " SELECT %s, a.id, -100, 'DEBIT', '', '', now() FROM wallet_account a"
            " WHERE a.user_id = %s AND a.kind = 'cash' AND a.currency = 'USD'",
            [tx_id, funded_user.pk],
        )
    assert raw.value.__cause__.sqlstate == "BTFRZ"
    assert wallet_balances_for_user(user=funded_user, currency="USD").available_minor == 100_000


def test_a_frozen_user_cannot_withdraw(funded_user):
    _freeze(funded_user)
    with pytest.raises(ApplicationError) as refused:
        wallet_withdraw(user=funded_user, amount_minor=1_000, currency="USD", provider="sandbox")
    assert refused.value.code == "account_frozen"
    assert wallet_balances_for_user(user=funded_user, currency="USD").available_minor == 100_000


def test_settlement_and_staff_adjustments_still_book_while_frozen(funded_user, game):
    bet = place(funded_user, leg(game.o("home_ml")), stake=1_000)
    _freeze(funded_user)
    staff = UserFactory(is_staff=True, is_superuser=True)
    bet_settle(bet_id=bet.pk, result="loss", staff=staff, reason="graded by hand")
    assert Bet.objects.get(pk=bet.pk).status == Bet.Status.SETTLED
    wallet_adjust(user=funded_user, amount_minor=-2_000, reason="duplicate credit", staff=staff)
    balances = wallet_balances_for_user(user=funded_user, currency="USD")
    assert (balances.available_minor, balances.held_minor) == (100_000 - 1_000 - 2_000, 0)
    assert "ledger_check passed" in ledger_clean()


def test_unfreezing_lets_money_move_again(funded_user, game):
    staff = UserFactory(is_staff=True, is_superuser=True)
    user_freeze(user=funded_user, actor=staff, reason="dispute")
    user_unfreeze(user=funded_user, actor=staff, reason="dispute won")
    bet = place(funded_user, leg(game.o("home_ml")), stake=1_000)
    assert bet.stake_minor == 1_000
    assert wallet_balances_for_user(user=funded_user, currency="USD").held_minor == 1_000


def test_through_the_api_a_frozen_user_sees_it_and_is_refused_bets_and_withdrawals(
    funded_user, game, token_client_for
):
    client = token_client_for(funded_user)
    assert client.get("/api/v1/me/").json()["frozen_at"] is None
    _freeze(funded_user)
    assert client.get("/api/v1/me/").json()["frozen_at"] is not None
    before = state(funded_user)
    bet = client.post(
        "/api/v1/bets/",
        {
            "legs": [
                {"outcome_id": game.o("home_ml").pk, "sportsbook": "draftkings", "odds_decimal": "2.20"}
            ],
            "stake": "10.00",
            "currency": "USD",
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="frozen-bet",
    )
    assert bet.status_code == 403
    assert bet.json()["error"]["code"] == "account_frozen"
    withdrawal = client.post(
        "/api/v1/wallet/withdrawals/", {"amount": "10.00"}, format="json", HTTP_IDEMPOTENCY_KEY="frozen-w"
    )
    assert withdrawal.status_code == 403
    assert withdrawal.json()["error"]["code"] == "account_frozen"
    assert state(funded_user) == before
    assert not Bet.objects.filter(user=funded_user).exists()
