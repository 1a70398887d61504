"""In the browser: staff send a sandbox refund of a deposit the bettor has partly spent; the
bettor's wallet shows the refund in the history, what is still held, nothing available, and
the frozen account (the spent part is owed)."""

from __future__ import annotations

import re

import pytest

from betthat.users.models import User
from tests.conftest import browser_log_in
from tests.factories import UserFactory
from tests.wallet.factories import fund_user
from wallet.ledger import system_account
from wallet.models import Transaction
from wallet.services import wallet_hold

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_staff_refund_a_spent_deposit_and_the_bettor_sees_it_owed_and_frozen(
    browser_page, live_server, settings
):
    settings.PAYMENTS_PROVIDER = "sandbox"
    bettor = UserFactory()
    deposit = fund_user(bettor, 2_500)
    wallet_hold(user=bettor, amount_minor=2_000, currency="USD", bet_id=None)  # staked on a bet
    receivable_before = system_account(kind="receivable", currency="USD").balance_minor
    staff = UserFactory(is_staff=True, is_superuser=True)
    page = browser_page

    browser_log_in(page, staff, live_server.url)
    page.goto("/admin/wallet/payment/")
    page.check(f"input[name=_selected_action][value='{deposit.pk}']")
    page.select_option("select[name=action]", "sandbox_refund")
    page.click("button[name=index]")
    page.wait_for_url(re.compile(r"/admin/wallet/payment/"))
    assert "sent 1 event" in page.inner_text(".messagelist")
    refund = Transaction.objects.get(payment=deposit, type="REFUND")
    assert (refund.amount_minor, refund.status) == (2_500, "completed")
    assert system_account(kind="receivable", currency="USD").balance_minor - receivable_before == -2_000
    assert "owed" in User.objects.get(pk=bettor.pk).frozen_reason

    browser_log_in(page, bettor, live_server.url)
    page.goto("/wallet/")
    assert page.locator("[data-testid=account-frozen]").is_visible()
    assert page.inner_text("[data-testid=balance-available]") == "0.00"
    assert page.inner_text("[data-testid=balance-held]") == "20.00"
    row = page.locator("[data-testid=history-row][data-type=REFUND]")
    assert row.count() == 1
    text = row.inner_text()
    assert "Deposit refunded" in text and "25.00" in text and "Completed" in text
    assert page.locator("[data-testid=history-row][data-type=DEPOSIT]").count() == 1
