import pytest
from django.test import Client

from tests.factories import UserFactory
from tests.wallet.factories import fund_user
from wallet.models import DepositLimit, Payment
from wallet.services import wallet_hold

pytestmark = pytest.mark.django_db


def reauthenticate(browser):
    """Confirm the password, as the wallet asks before a withdrawal."""
    from tests.factories import PASSWORD

    assert browser.post("/accounts/reauthenticate/", {"password": PASSWORD}).status_code == 302


@pytest.fixture
def browser(user):
    client = Client()
    client.force_login(user)
    return client


def test_wallet_page_shows_balances_chart_and_history(user, browser):
    fund_user(user, 150_000)
    wallet_hold(user=user, amount_minor=2_500, currency="USD", bet_id=41)
    html = browser.get("/wallet/").content.decode()
    assert 'data-testid="balance-available">1,475.00<' in html
    assert 'data-testid="balance-held">25.00<' in html
    assert 'data-testid="balance-total">1,500.00<' in html
    assert 'data-testid="balance-chart"' in html and 'data-points="30"' in html
    assert html.count('data-testid="history-row"') == 2


def test_anonymous_is_sent_to_login(client):
    response = client.get("/wallet/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_history_filters_and_pagination_with_htmx(user, browser):
    fund_user(user, 100_000)
    for bet_id in range(100, 125):
        wallet_hold(user=user, amount_minor=100, currency="USD", bet_id=bet_id)
    page1 = browser.get("/wallet/history/", HTTP_HX_REQUEST="true").content.decode()
    assert page1.count('data-testid="history-row"') == 20 and "Page 1 of 2" in page1
    page2 = browser.get("/wallet/history/?page=2", HTTP_HX_REQUEST="true").content.decode()
    assert page2.count('data-testid="history-row"') == 6
    deposits = browser.get("/wallet/history/?type=DEPOSIT", HTTP_HX_REQUEST="true").content.decode()
    assert deposits.count('data-testid="history-row"') == 1


def test_deposit_form_goes_to_checkout_and_refusals_are_explained(user, browser):
    response = browser.post(
        "/wallet/deposit/", {"amount": "40.00", "currency": "USD", "idempotency_key": "form-1"}
    )
    payment = Payment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/wallet/sandbox/checkout/{payment.pk}/"
    # A double submit of the same form is the same deposit.
    browser.post("/wallet/deposit/", {"amount": "40.00", "currency": "USD", "idempotency_key": "form-1"})
    assert Payment.objects.count() == 1
    response = browser.post("/wallet/deposit/", {"amount": "1.001", "currency": "USD"}, follow=True)
    assert "Use at most two decimal places." in response.content.decode()
    reauthenticate(browser)
    response = browser.post("/wallet/withdraw/", {"amount": "5.00", "currency": "USD"}, follow=True)
    assert (
        "Not enough funds" in response.content.decode() and "Available: 0.00 USD" in response.content.decode()
    )
    assert Payment.objects.count() == 1


def test_checkout_of_another_users_payment_is_404(browser):
    other = UserFactory()
    payment = fund_user(other, 1_000)
    assert browser.get(f"/wallet/sandbox/checkout/{payment.pk}/").status_code == 404


def test_checkout_with_a_declined_card(user, browser, settings):
    browser.post("/wallet/deposit/", {"amount": "40.00", "currency": "USD"})
    payment = Payment.objects.get()
    page = browser.get(f"/wallet/sandbox/checkout/{payment.pk}/").content.decode()
    assert "Pay 40.00 USD" in page
    response = browser.post(
        f"/wallet/sandbox/checkout/{payment.pk}/", {"card_number": "4000 0000 0000 0002", "duplicates": 1}
    )
    assert response.status_code == 302
    bad = browser.post(f"/wallet/sandbox/checkout/{payment.pk}/", {"card_number": "12", "duplicates": 1})
    assert "not a sandbox test card" in bad.content.decode()


def test_live_partial_asks_for_a_refresh_when_payments_finish(user, browser):
    payment = fund_user(user, 1_000)
    response = browser.get(f"/wallet/live/?watch={payment.pk}", HTTP_HX_REQUEST="true")
    assert response["HX-Refresh"] == "true"
    pending = Payment.objects.create(user=user, direction="DEPOSIT", amount_minor=5, provider="sandbox")
    response = browser.get(f"/wallet/live/?watch={pending.pk}", HTTP_HX_REQUEST="true")
    assert "HX-Refresh" not in response and "every 1s" in response.content.decode()


def test_limits_page_sets_and_shows_limits(user, browser):
    response = browser.post("/wallet/limits/", {"period": "day", "amount": "100.00"}, follow=True)
    assert "in force now" in response.content.decode()
    assert DepositLimit.objects.get(user=user, period="day").amount_minor == 10_000
    response = browser.post("/wallet/limits/", {"period": "day", "amount": "300.00"}, follow=True)
    html = response.content.decode()
    assert "cooling-off" in html and "300.00 USD from" in html


def test_admin_health_view_and_adjustment(staff_user, user):
    fund_user(user, 1_000)
    client = Client()
    client.force_login(staff_user)
    assert "All invariants hold" in client.get("/admin/wallet/account/ledger-health/").content.decode()
    cash = user.accounts.get(kind="cash")
    response = client.post(
        f"/admin/wallet/account/{cash.pk}/adjust/", {"amount": "-2.50", "reason": "goodwill reversal"}
    )
    assert response.status_code == 302
    cash.refresh_from_db()
    assert cash.balance_minor == 750
    from wallet.models import Transaction

    tx = Transaction.objects.get(type="ADJUSTMENT")
    assert tx.created_by == staff_user and tx.reason == "goodwill reversal"
    assert client.get(f"/admin/wallet/transaction/{tx.pk}/change/").status_code == 200
    assert client.get(f"/admin/wallet/payment/{Payment.objects.get().pk}/change/").status_code == 200
    assert client.get("/admin/wallet/account/").status_code == 200


def test_ledger_check_command(user):
    from django.core.management import call_command

    fund_user(user, 1_000)
    call_command("ledger_check")
    from django.db import connection

    with connection.cursor() as cursor:  # break the cache on purpose (the CHECK allows it)
        cursor.execute(
            "UPDATE wallet_account SET balance_minor = balance_minor + 1 WHERE user_id = %s AND kind='cash'",
            [user.pk],
        )
    with pytest.raises(SystemExit) as exit_info:
        call_command("ledger_check")
    assert exit_info.value.code == 1


def test_demo_seed_funds_bettors_once_through_the_deposit_path(staff_user):
    import io

    from wallet import demo
    from wallet.selectors import wallet_balances_for_user

    bettors = [UserFactory(), UserFactory()]
    for _ in range(2):
        demo.seed(users=[staff_user, *bettors], stdout=io.StringIO())
    for bettor in bettors:
        assert wallet_balances_for_user(user=bettor).available_minor == 100_000
    assert wallet_balances_for_user(user=staff_user).total_minor == 0
    assert Payment.objects.filter(status="succeeded").count() == 2
