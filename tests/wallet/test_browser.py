"""A real browser: deposit through the sandbox checkout, see the balance, withdraw, see the
history and the chart. A real Celery worker delivers the sandbox's webhooks."""

import re

import pytest

from tests.factories import PASSWORD, UserFactory

pytestmark = [pytest.mark.browser, pytest.mark.celery_worker, pytest.mark.django_db(transaction=True)]


def test_deposit_withdraw_history_and_chart(browser_page, live_server, settings, celery_worker_process):
    settings.SANDBOX_AUTO_DELIVER = True
    celery_worker_process(queues="default")
    user = UserFactory()
    page = browser_page
    page.goto("/accounts/login/")
    page.fill("input[name=login]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{live_server.url}/")

    page.goto("/wallet/")
    assert page.inner_text("[data-testid=balance-total]") == "0.00"
    page.fill("#deposit-amount", "150.00")
    page.click("[data-testid=deposit-submit]")
    page.wait_for_url(re.compile(r"/wallet/sandbox/checkout/\d+/"))
    assert "Pay 150.00 USD" in page.content()
    page.click("[data-testid=checkout-pay]")
    page.wait_for_url(re.compile(r"/wallet/\?watch="))
    page.wait_for_function(
        "() => document.querySelector('[data-testid=balance-available]').textContent.trim() === '150.00'",
        timeout=30000,
    )

    page.fill("#withdraw-amount", "40.00")
    page.click("[data-testid=withdraw-submit]")
    # Money leaves the platform only after the password is confirmed; the form then resumes.
    page.wait_for_url(re.compile(r"/accounts/reauthenticate/"))
    page.fill("input[name=password]", PASSWORD)
    page.click("form:has(input[name=password]) button[type=submit]")
    page.wait_for_url(re.compile(r"/wallet/\?watch="))
    page.wait_for_function(
        "() => document.querySelector('[data-testid=balance-total]').textContent.trim() === '110.00'",
        timeout=30000,
    )
    assert page.inner_text("[data-testid=balance-available]") == "110.00"
    assert page.inner_text("[data-testid=balance-held]") == "0.00"

    rows = page.locator("[data-testid=history-row]")
    types = [rows.nth(i).get_attribute("data-type") for i in range(rows.count())]
    assert types == ["WITHDRAWAL", "DEPOSIT"]
    chart = page.locator("[data-testid=balance-chart]")
    assert chart.is_visible()
    assert "now 110.00 USD" in chart.get_attribute("aria-label")
    page.select_option("[data-testid=history-filters] select[name=type]", "DEPOSIT")
    page.wait_for_function("() => document.querySelectorAll('[data-testid=history-row]').length === 1")
