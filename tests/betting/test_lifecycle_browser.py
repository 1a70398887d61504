"""In the browser: a bettor closes their account; their balance is paid out first."""

from __future__ import annotations

import re

import pytest

from betthat.core.outbox import relay_outbox
from betthat.users.models import User
from tests.conftest import browser_log_in
from tests.factories import PASSWORD, UserFactory
from tests.wallet.factories import fund_user
from wallet.models import Payment
from wallet.providers import sandbox

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_bettor_closes_their_account_after_the_payout(browser_page, live_server, settings):
    settings.PAYMENTS_PROVIDER = "sandbox"
    settings.SANDBOX_AUTO_DELIVER = False  # the test plays the provider
    settings.OUTBOX_NUDGE = False
    user = UserFactory()
    fund_user(user, 1_000)
    page = browser_page
    browser_log_in(page, user, live_server.url)
    page.goto("/account/close/")
    assert "10.00" in page.locator("[data-testid=money-USD]").inner_text()
    assert page.locator("[data-testid=open-bets]").inner_text().endswith("0")
    page.click("[data-testid=close-button]")
    page.wait_for_url(re.compile(r"/accounts/reauthenticate/"))
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_url(re.compile(r"/account/close/"))
    assert "being paid out" in page.locator(".messages").inner_text()
    assert page.locator("[data-testid=closure-pending]").is_visible()
    payment = Payment.objects.get(user=user, direction="WITHDRAWAL")
    assert payment.amount_minor == 1_000
    assert User.objects.get(pk=user.pk).closed_at is None

    sandbox.deliver(sandbox.build_events(payment, outcome="succeeded"))  # the provider pays out
    relay_outbox()  # payments.succeeded closes the account

    closed = User.all_objects.get(pk=user.pk)
    assert closed.closed_at is not None and not closed.is_active
    page.goto("/account/close/")
    page.wait_for_url(re.compile(r"/accounts/login/"))  # the session ended with the account
