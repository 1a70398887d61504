"""Notification emails do what the preferences say: settlements, deposits and withdrawals
are emailed (text + HTML, an unsubscribe link), once per event however often a handler or
task runs, and never to someone who turned them off."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from betthat.core.outbox import relay_outbox
from betthat.users import emails
from betthat.users.models import EmailNotification
from betthat.users.tasks import send_due_notification_emails_task
from betting.services import settle_due_bets
from edges.models import Event
from edges.services import event_record_result
from tests.betting.factories import make_game
from tests.betting.helpers import leg, place
from tests.factories import UserFactory
from tests.wallet.factories import fund_user
from wallet.models import Payment
from wallet.services import payment_apply_outcome, wallet_deposit_start, wallet_withdraw

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _no_outbox_nudge(settings):
    settings.OUTBOX_NUDGE = False  # the tests run the relay themselves


def _prefs(user, **values):
    user.preferences = {**user.preferences, **values}
    user.save(update_fields=["preferences"])


def _send_owed() -> int:
    """What the Celery task does for each owed email (its one call), for every pending row."""
    ids = EmailNotification.objects.filter(status="pending").values_list("pk", flat=True)
    return sum(emails.email_notification_send(notification_id=pk) for pk in list(ids))


def _settle_one_win(user):
    game = make_game()
    fund_user(user, 10_000)
    relay_outbox()  # the funding deposit's events, so only the settlement is left below
    mail.outbox.clear()
    EmailNotification.objects.all().delete()
    bet = place(user, leg(game.o("home_ml")), stake=1000)
    Event.objects.filter(pk=game.event.pk).update(commence_time=timezone.now() - timedelta(hours=3))
    event_record_result(event_id=game.event.pk, home_score=27, away_score=20)
    relay_outbox()  # grades the event
    assert settle_due_bets() == 1
    return bet


def test_a_settlement_is_emailed_once_with_text_html_and_an_unsubscribe_link():
    user = UserFactory()
    bet = _settle_one_win(user)
    relay_outbox()
    assert _send_owed() == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [user.email]
    assert message.subject == f"[Bet-That] Bet #{bet.pk} settled: win"
    assert "Stake: 10.00 USD" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and f"Your bet #{bet.pk} has settled" in html
    token = emails.unsubscribe_token(user)
    assert f"/account/email/unsubscribe/{token}/" in message.body
    assert message.extra_headers["List-Unsubscribe"].endswith(f"/account/email/unsubscribe/{token}/>")
    row = EmailNotification.objects.get()
    assert (row.kind, row.dedupe_key, row.status) == ("bet_settled", f"bet_settled:{bet.pk}", "sent")

    # A retried handler (the outbox event delivered again) and a task delivered twice add nothing.
    from betthat.users.handlers import email_bet_settled

    email_bet_settled("retry", {"user_id": user.pk, "bet_id": bet.pk, "result": "win", "currency": "USD"})
    assert emails.email_notification_send(notification_id=row.pk) is False
    assert _send_owed() == 0
    assert EmailNotification.objects.count() == 1
    assert len(mail.outbox) == 1


@pytest.mark.parametrize(
    "prefs", [{"notify_email": False}, {"notify_settlements": False}], ids=["email-off", "settlements-off"]
)
def test_no_settlement_email_when_the_preferences_say_no(prefs):
    user = UserFactory()
    _prefs(user, **prefs)
    _settle_one_win(user)
    relay_outbox()
    assert _send_owed() == 0
    assert mail.outbox == []
    assert not EmailNotification.objects.exists()


def test_deposits_and_withdrawals_are_emailed():
    user = UserFactory()
    fund_user(user, 50_000)
    payment = wallet_withdraw(user=user, amount_minor=12_345, idempotency_key="w1")
    payment.refresh_from_db()
    if not payment.is_terminal:
        payment_apply_outcome(payment_id=payment.pk, outcome="succeeded")
    relay_outbox()
    assert _send_owed() == 2
    subjects = sorted(m.subject for m in mail.outbox)
    assert subjects == [
        "[Bet-That] Deposit of 500.00 USD completed",
        "[Bet-That] Withdrawal of 123.45 USD completed",
    ]
    assert Payment.objects.filter(user=user).count() == 2


def test_deposit_emails_follow_notify_deposits_but_withdrawals_still_go():
    user = UserFactory()
    _prefs(user, notify_deposits=False)
    fund_user(user, 50_000)
    wallet_withdraw(user=user, amount_minor=1_000, idempotency_key="w2")
    payment = Payment.objects.get(user=user, direction="WITHDRAWAL")
    if not payment.is_terminal:
        payment_apply_outcome(payment_id=payment.pk, outcome="succeeded")
    relay_outbox()
    _send_owed()
    assert [m.subject for m in mail.outbox] == ["[Bet-That] Withdrawal of 10.00 USD completed"]


def test_a_failed_deposit_is_emailed_as_failed():
    user = UserFactory()
    payment = wallet_deposit_start(user=user, amount_minor=2_500, idempotency_key="d1")
    payment_apply_outcome(payment_id=payment.pk, outcome="failed", reason="card declined")
    relay_outbox()
    _send_owed()
    assert [m.subject for m in mail.outbox] == ["[Bet-That] Deposit of 25.00 USD failed"]
    assert "card declined" in mail.outbox[0].body


def test_a_mail_server_failure_is_retried_and_sends_once(settings, monkeypatch):
    user = UserFactory()
    fund_user(user, 1_000)
    relay_outbox()
    row = EmailNotification.objects.get()
    calls = []

    def refuse(self, fail_silently=False):
        calls.append(1)
        raise ConnectionRefusedError("smtp down")

    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    with pytest.raises(ConnectionRefusedError):
        emails.email_notification_send(notification_id=row.pk)
    row.refresh_from_db()
    assert (row.status, row.attempts, "smtp down" in row.last_error) == ("pending", 1, True)
    monkeypatch.undo()
    assert emails.email_notification_send(notification_id=row.pk) is True
    assert emails.email_notification_send(notification_id=row.pk) is False
    assert len(mail.outbox) == 1 and len(calls) == 1


def test_the_sweep_finds_emails_whose_task_never_ran(monkeypatch):
    user = UserFactory()
    fund_user(user, 1_000)
    relay_outbox()
    row = EmailNotification.objects.get()
    assert emails.email_notifications_due() == []  # just owed: its own task is on the way
    EmailNotification.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(minutes=5))
    sent = []
    monkeypatch.setattr("betthat.users.tasks.send_notification_email_task.delay", lambda pk: sent.append(pk))
    assert send_due_notification_emails_task() == 1
    assert sent == [row.pk]


def test_an_email_turned_off_after_the_event_is_not_sent():
    user = UserFactory()
    fund_user(user, 1_000)
    relay_outbox()
    _prefs(user, notify_email=False)
    assert _send_owed() == 0
    assert mail.outbox == []
    assert EmailNotification.objects.get().status == "failed"


def test_the_unsubscribe_link_asks_then_turns_notification_emails_off(client):
    user = UserFactory()
    url = f"/account/email/unsubscribe/{emails.unsubscribe_token(user)}/"
    page = client.get(url)
    assert page.status_code == 200 and user.email in page.content.decode()
    user.refresh_from_db()
    assert user.preferences["notify_email"] is True  # a GET (a mail scanner) changes nothing
    assert client.post(url).status_code == 200
    user.refresh_from_db()
    assert user.preferences["notify_email"] is False
    assert user.preferences["notify_settlements"] is True
    assert client.get(url[:-3] + "xx/").status_code == 404


@pytest.mark.parametrize("ticked, expected", [(True, True), (False, False)])
def test_the_settings_page_sets_notify_email(client, ticked, expected):
    user = UserFactory()
    _prefs(user, notify_email=not expected)
    client.force_login(user)
    form = {
        "name": "Alice",
        "timezone": "UTC",
        "risk_tolerance": "medium",
        "max_kelly_fraction": "0.25",
        "odds_format": "american",
        "devig_method": "multiplicative",
        "reference": "sharp",
        "notify_settlements": "on",
        "notify_deposits": "on",
    }
    if ticked:
        form["notify_email"] = "on"
    page = client.get("/account/settings/").content.decode()
    assert 'name="notify_email"' in page
    assert client.post("/account/settings/", form).status_code == 302
    user.refresh_from_db()
    assert user.preferences["notify_email"] is expected
    assert user.preferences["notify_settlements"] is True


def test_the_unsubscribe_token_is_stable_and_per_user(monkeypatch):
    """Rendered twice (a second apart or a year apart) an email carries the same link; it
    names one user and no other."""
    import time

    first, second = UserFactory(), UserFactory()
    before = emails.unsubscribe_token(first)
    later = time.time() + 400 * 86_400
    monkeypatch.setattr("django.core.signing.time.time", lambda: later)
    assert emails.unsubscribe_token(first) == before
    assert emails.user_from_unsubscribe_token(emails.unsubscribe_token(first)) == first
    assert emails.unsubscribe_token(first) != emails.unsubscribe_token(second)
    # the second user's payload under the first user's signature
    forged = (
        emails.unsubscribe_token(second).split(":")[0] + ":" + emails.unsubscribe_token(first).split(":")[1]
    )
    assert emails.user_from_unsubscribe_token(forged) is None
    assert emails.user_from_unsubscribe_token("not-a-token") is None


def test_notify_email_set_through_the_api_decides_whether_a_deposit_is_emailed(token_client_for):
    user = UserFactory()
    client = token_client_for(user)
    response = client.patch("/api/v1/me/", {"preferences": {"notify_email": False}}, format="json")
    assert response.status_code == 200 and response.json()["preferences"]["notify_email"] is False
    fund_user(user, 1_000)
    relay_outbox()
    _send_owed()
    assert [m for m in mail.outbox if user.email in m.to] == []

    response = client.patch("/api/v1/me/", {"preferences": {"notify_email": True}}, format="json")
    assert response.json()["preferences"]["notify_email"] is True
    fund_user(user, 2_000)
    relay_outbox()
    assert _send_owed() == 1
    (message,) = [m for m in mail.outbox if user.email in m.to]
    assert "20.00" in message.body and "/account/email/unsubscribe/" in message.body
    response = client.patch("/api/v1/me/", {"preferences": {"notify_email": "no"}}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "validation_error"
