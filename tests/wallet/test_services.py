import pytest
from django.db import connection

from tests.factories import UserFactory
from tests.wallet.factories import fund_user
from wallet.selectors import wallet_balances_for_user
from wallet.services import wallet_capture, wallet_hold

pytestmark = pytest.mark.django_db


def check_now():
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def test_fund_hold_capture():
    user = UserFactory()
    fund_user(user, 10_000)
    check_now()
    b = wallet_balances_for_user(user=user)
    assert (b.available_minor, b.held_minor, b.total_minor) == (10_000, 0, 10_000)
    wallet_hold(user=user, amount_minor=2_500, currency="USD", bet_id=1)
    b = wallet_balances_for_user(user=user)
    assert (b.available_minor, b.held_minor) == (7_500, 2_500)
    tx = wallet_capture(user=user, stake_minor=2_500, payout_minor=5_000, currency="USD", bet_id=1)
    check_now()
    b = wallet_balances_for_user(user=user)
    assert (b.available_minor, b.held_minor) == (12_500, 0)
    assert sorted(tx.entries.values_list("amount_minor", flat=True)) == [-5000, -2500, 2500, 5000]
