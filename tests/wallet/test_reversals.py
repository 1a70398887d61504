"""Refunds and chargebacks: provider webhooks take a deposit back with new, reversing journal
transactions, once per provider event and per refund or dispute; cash never goes negative
(what was spent is owed on the receivable account) and a dispute freezes the account."""

from __future__ import annotations

import json

import pytest
from django.core.management import call_command

from betthat.users.models import User
from tests.factories import UserFactory
from tests.wallet.factories import fund_user
from tests.wallet.test_webhooks import post, stripe_signature
from wallet.ledger import system_account
from wallet.models import Payment, Transaction, WebhookEvent
from wallet.providers import sandbox
from wallet.selectors import wallet_balances_for_user
from wallet.services import wallet_hold

pytestmark = pytest.mark.django_db


def deliver(api_client, events):
    outcomes = []
    for event in events:
        body = json.dumps(event).encode()
        response = post(api_client, "sandbox", body, HTTP_SANDBOX_SIGNATURE=sandbox.sign(body))
        assert response.status_code == 200, response.content
        outcomes.append(response.json()["outcome"])
    return outcomes


def refund_event(payment, refunded_minor):
    return sandbox._reversal_event(
        payment, type="charge.refunded", amount_minor=refunded_minor, reference=f"sbx_ch_{payment.pk}"
    )


def dispute_events(payment, reference="sbx_dp_1"):
    opened = sandbox._reversal_event(
        payment, type="charge.dispute.created", amount_minor=payment.amount_minor, reference=reference
    )
    won = sandbox._reversal_event(
        payment,
        type="charge.dispute.closed",
        amount_minor=payment.amount_minor,
        reference=reference,
        status="won",
    )
    lost = sandbox._reversal_event(
        payment,
        type="charge.dispute.closed",
        amount_minor=payment.amount_minor,
        reference=reference,
        status="lost",
    )
    return opened, won, lost


def cash(user):
    return wallet_balances_for_user(user=user).available_minor


def receivable_minor():
    return system_account(kind="receivable", currency="USD").balance_minor


def ledger_passes():
    from io import StringIO

    out = StringIO()
    call_command("ledger_check", stdout=out)
    return "ledger_check passed" in out.getvalue()


@pytest.fixture
def deposit():
    return fund_user(UserFactory(), 2_500)


def test_a_refund_takes_the_deposit_back_once(api_client, deposit):
    event = refund_event(deposit, 2_500)
    assert deliver(api_client, [event, event]) == ["refunded", "duplicate"]
    # The same refund told again under another event id books nothing more.
    assert deliver(api_client, [refund_event(deposit, 2_500)]) == ["no change: already refunded"]
    assert cash(deposit.user) == 0
    refunds = Transaction.objects.filter(payment=deposit, type="REFUND")
    assert [(t.amount_minor, t.status) for t in refunds] == [(2_500, "completed")]
    # The deposit's own entries are untouched: the refund is a new transaction.
    assert Transaction.objects.get(payment=deposit, type="DEPOSIT").entries.count() == 2
    assert User.objects.get(pk=deposit.user_id).frozen_at is None
    assert ledger_passes()


def test_partial_refunds_follow_the_cumulative_amount(api_client, deposit):
    assert deliver(api_client, [refund_event(deposit, 1_000), refund_event(deposit, 2_500)]) == [
        "refunded",
        "refunded",
    ]
    amounts = sorted(
        Transaction.objects.filter(payment=deposit, type="REFUND").values_list("amount_minor", flat=True)
    )
    assert amounts == [1_000, 1_500]
    assert cash(deposit.user) == 0
    assert deliver(api_client, [refund_event(deposit, 9_999)]) == ["ignored: amount or currency mismatch"]
    assert cash(deposit.user) == 0


def test_a_refund_of_money_already_spent_is_owed_and_freezes(api_client, deposit):
    wallet_hold(user=deposit.user, amount_minor=2_000, currency="USD", bet_id=None)
    before = receivable_minor()
    assert deliver(api_client, [refund_event(deposit, 2_500)]) == ["refunded"]
    balances = wallet_balances_for_user(user=deposit.user)
    assert (balances.available_minor, balances.held_minor) == (0, 2_000)
    assert receivable_minor() - before == -2_000
    user = User.objects.get(pk=deposit.user_id)
    assert user.frozen_at is not None and "owed" in user.frozen_reason
    assert ledger_passes()


def test_a_dispute_freezes_and_a_won_dispute_gives_the_money_back(api_client, deposit):
    opened, won, _lost = dispute_events(deposit)
    assert deliver(api_client, [opened, opened]) == ["dispute opened", "duplicate"]
    assert cash(deposit.user) == 0
    assert User.objects.get(pk=deposit.user_id).frozen_at is not None
    assert deliver(api_client, [won]) == ["dispute won"]
    assert cash(deposit.user) == 2_500
    assert User.objects.get(pk=deposit.user_id).frozen_at is None
    types = list(Transaction.objects.filter(payment=deposit).order_by("id").values_list("type", flat=True))
    assert types == ["DEPOSIT", "CHARGEBACK", "CHARGEBACK_WON"]
    assert ledger_passes()


def test_a_lost_dispute_moves_nothing_more_and_stays_frozen(api_client, deposit):
    wallet_hold(user=deposit.user, amount_minor=1_000, currency="USD", bet_id=None)
    opened, _won, lost = dispute_events(deposit)
    before = receivable_minor()
    assert deliver(api_client, [opened, lost]) == ["dispute opened", "dispute lost"]
    assert cash(deposit.user) == 0
    assert receivable_minor() - before == -1_000
    assert User.objects.get(pk=deposit.user_id).frozen_at is not None
    assert ledger_passes()


def test_a_closed_dispute_event_that_arrives_first_is_ignored(api_client, deposit):
    _opened, won, _lost = dispute_events(deposit)
    assert deliver(api_client, [won]) == ["ignored: unknown dispute"]
    assert cash(deposit.user) == 2_500


def test_a_stripe_dispute_finds_a_checkout_deposit_by_its_payment_intent(api_client, settings):
    """Checkout deposits are stored under the session id; the dispute names the PaymentIntent,
    which the deposit's own succeeded event carried."""
    settings.STRIPE_WEBHOOK_SECRET = "whsec_test_stripe"
    user = UserFactory()
    payment = Payment.objects.create(
        user=user,
        direction="DEPOSIT",
        amount_minor=4_200,
        currency="USD",
        provider="stripe",
        provider_transaction_id="cs_test_1",
    )
    Transaction.objects.create(
        user=user, payment=payment, type="DEPOSIT", status="pending", amount_minor=4_200
    )

    def send(event):
        payload = json.dumps(event)
        response = post(
            api_client,
            "stripe",
            payload.encode(),
            HTTP_STRIPE_SIGNATURE=stripe_signature(payload, "whsec_test_stripe"),
        )
        assert response.status_code == 200, response.content
        return response.json()["outcome"]

    succeeded = {
        "id": "evt_pi_ok",
        "type": "payment_intent.succeeded",
        "data": {
            "object": {
                "id": "pi_777",
                "amount": 4_200,
                "currency": "usd",
                "metadata": {"payment_id": str(payment.pk)},
            }
        },
    }
    dispute = {
        "id": "evt_dp_1",
        "type": "charge.dispute.created",
        "data": {
            "object": {
                "id": "dp_1",
                "object": "dispute",
                "amount": 4_200,
                "currency": "usd",
                "charge": "ch_1",
                "payment_intent": "pi_777",
                "reason": "fraudulent",
                "metadata": {},
            }
        },
    }
    assert send(succeeded) == "succeeded"
    assert send(dispute) == "dispute opened"
    assert cash(user) == 0
    assert Transaction.objects.get(payment=payment, type="CHARGEBACK").external_reference == "dp_1"
    assert User.objects.get(pk=user.pk).frozen_at is not None
    assert WebhookEvent.objects.filter(provider="stripe").count() == 2


def test_staff_trigger_sandbox_refunds_and_disputes_from_the_admin(
    client, deposit, django_capture_on_commit_callbacks
):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    url = "/admin/wallet/payment/"

    def act(action):
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, {"action": action, "_selected_action": [deposit.pk]})
        assert response.status_code == 302

    act("sandbox_dispute_open")
    assert cash(deposit.user) == 0
    assert User.objects.get(pk=deposit.user_id).frozen_at is not None
    act("sandbox_dispute_won")
    assert cash(deposit.user) == 2_500
    assert User.objects.get(pk=deposit.user_id).frozen_at is None
    act("sandbox_refund")
    assert cash(deposit.user) == 0
    outcomes = list(
        WebhookEvent.objects.filter(payment=deposit).order_by("id").values_list("outcome", flat=True)
    )
    assert outcomes[-3:] == ["dispute opened", "dispute won", "refunded"]
    assert ledger_passes()


def test_sandbox_reversals_need_the_adjust_permission(client, deposit):
    staff = UserFactory(is_staff=True)
    client.force_login(staff)
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(Permission.objects.get(codename="view_payment"))
    response = client.post(
        "/admin/wallet/payment/", {"action": "sandbox_refund", "_selected_action": [deposit.pk]}
    )
    # Without wallet.adjust_account the action is not offered: nothing is sent.
    assert response.status_code == 200
    assert cash(deposit.user) == 2_500
    assert not Transaction.objects.filter(payment=deposit, type="REFUND").exists()


def test_the_bettor_sees_the_reversals_in_their_history(api_client, deposit, client):
    opened, _won, _lost = dispute_events(deposit)
    opened["data"]["amount_minor"] = 2_000  # the part not refunded
    assert deliver(api_client, [refund_event(deposit, 500), opened]) == ["refunded", "dispute opened"]
    client.force_login(deposit.user)
    history = client.get("/wallet/history/", HTTP_HX_REQUEST="true")  # the table itself
    assert history.status_code == 200
    rows = history.content.decode()
    assert 'data-type="REFUND"' in rows and 'data-type="CHARGEBACK"' in rows
    assert "Deposit refunded" in rows and "Chargeback" in rows
    assert b'data-testid="account-frozen"' in client.get("/wallet/").content
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    frozen_list = client.get("/admin/users/user/?frozen=yes")
    assert deposit.user.email.encode() in frozen_list.content
